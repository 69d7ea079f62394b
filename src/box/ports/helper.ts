/**
 * The helper that runs inside the box's network namespace (`a3s box forward-helper`): it accepts the
 * host side's connections on a Unix socket, reads the target port each begins with and relays the
 * connection to 127.0.0.1:<port> there.
 */
import { rmSync } from "node:fs";
import { type End, finish, link, newEnd, relay, send } from "./relay.ts";

/** The helper checks this often whether its parent (the box's supervisor) is still there. */
const PARENT_POLL_MS = 1_000;
/** What the helper prints on stdout once it listens. */
export const READY_LINE = "ready\n";
const HEADER_BYTES = 2;

/**
 * Accepts forwarded connections on `socketPath` and connects each to 127.0.0.1:<port> in the
 * network namespace this process runs in. Returns when the parent is gone: stdin closed, or this
 * process re-parented; a helper never outlives the supervisor that started it.
 */
export async function runForwardHelper(socketPath: string): Promise<void> {
  rmSync(socketPath, { force: true });
  const server = Bun.listen<End>({
    unix: socketPath,
    allowHalfOpen: true,
    socket: {
      ...relay,
      open(socket) {
        socket.data = newEnd(socket);
        socket.data.header = new Uint8Array(0);
      },
      data(socket, chunk) {
        const end = socket.data;
        if (end.header === undefined) {
          if (end.peer) send(end.peer, end, chunk);
          return;
        }
        const header = concat(end.header, chunk);
        if (header.length < HEADER_BYTES) {
          end.header = header;
          return;
        }
        end.header = undefined;
        connectTarget(end, ((header[0] ?? 0) << 8) | (header[1] ?? 0), header.subarray(HEADER_BYTES));
      },
      end(socket) {
        if (socket.data.peer) finish(socket.data.peer);
        else socket.end(); // closed before it named a port
      },
    },
  });
  process.stdout.write(READY_LINE);
  await parentGone();
  server.stop(true);
  rmSync(socketPath, { force: true });
}

function connectTarget(client: End, port: number, rest: Uint8Array): void {
  const target = newEnd();
  link(client, target);
  if (rest.length > 0) send(target, client, rest);
  Bun.connect<End>({ hostname: "127.0.0.1", port, allowHalfOpen: true, data: target, socket: relay }).catch(
    () => {
      // Nothing listens there (yet): the client just sees the connection close.
      target.closed = true;
      if (!client.closed) client.socket?.end();
    },
  );
}

function parentGone(): Promise<void> {
  const parent = process.ppid;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (process.ppid !== parent) done();
    }, PARENT_POLL_MS);
    const stdin = Bun.stdin.stream().getReader();
    (async () => {
      while (!(await stdin.read()).done) {
        // the parent never writes; only the end matters
      }
    })()
      .catch(() => {})
      .finally(done);
    function done() {
      clearInterval(timer);
      resolve();
    }
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
