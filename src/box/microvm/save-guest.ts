/**
 * Parking and saving a guest for the warm pool: wait for a deferred guest's READY, let go of the
 * control port (the parked guest waits for its next host, PROTOCOL.md), then have QEMU migrate the
 * running guest into a file.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { Socket, Subprocess } from "bun";
import { GuestFrame, GuestFrameDecoder } from "./channel.ts";
import { Qmp } from "./qmp.ts";

const READY_TIMEOUT_MS = 60_000;
const SAVE_TIMEOUT_MS = 60_000;
/** QEMU throttles migration to 128 MiB/s by default; this state goes to a local file. */
const SAVE_BANDWIDTH = 8 * 1024 ** 3;

/** Connects to the control port, waits for READY, and leaves. */
export async function waitForReady(controlSocket: string, qemu: Subprocess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const decoder = new GuestFrameDecoder();
  let settle: (error?: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  let socket: Socket<undefined>;
  for (;;) {
    try {
      socket = await Bun.connect({
        unix: controlSocket,
        socket: {
          data: (_socket, chunk) =>
            decoder.push(chunk, (type, _stream, payload) => {
              if (type === GuestFrame.ready) settle();
              else if (type === GuestFrame.error) settle(new Error(new TextDecoder().decode(payload)));
            }),
        },
      });
      break;
    } catch (err) {
      if (Date.now() > deadline || qemu.exitCode !== null) throw new Error(`QEMU did not start: ${err}`);
      await Bun.sleep(5);
    }
  }
  try {
    await Promise.race([
      ready,
      qemu.exited.then((code) =>
        Promise.reject(new Error(`QEMU exited (${code}) before the guest was ready`)),
      ),
      Bun.sleep(Math.max(0, deadline - Date.now())).then(() =>
        Promise.reject(new Error("the guest was not ready in time")),
      ),
    ]);
  } finally {
    socket.end();
  }
}

/**
 * Has QEMU migrate the running guest to a unix socket and writes what arrives to `statePath`, then
 * ends QEMU. A socket rather than `exec:cat > file`: QEMU kills the command it exec'd right after
 * closing its pipe, which can cut off the end of the state.
 */
export async function saveGuest(
  qmpSocket: string,
  migrationSocket: string,
  statePath: string,
  qemu: Subprocess,
): Promise<void> {
  const file = openSync(statePath, "w", 0o600);
  let received: (error?: Error) => void = () => {};
  const arrived = new Promise<void>((resolve, reject) => {
    received = (error) => (error ? reject(error) : resolve());
  });
  const server = Bun.listen({
    unix: migrationSocket,
    socket: {
      data(_socket, chunk) {
        for (let offset = 0; offset < chunk.length; ) offset += writeSync(file, chunk, offset);
      },
      close: () => received(),
      error: (_socket, error) => received(error),
    },
  });
  let qmp: Qmp | undefined;
  try {
    qmp = await Qmp.connect(qmpSocket, 10_000, () => qemu.exitCode === null);
    await qmp.command("migrate-set-parameters", { "max-bandwidth": SAVE_BANDWIDTH });
    await qmp.command("migrate", { uri: `unix:${migrationSocket}` });
    const deadline = Date.now() + SAVE_TIMEOUT_MS;
    for (;;) {
      const status = await qmp.command<{ status?: string; "error-desc"?: string }>("query-migrate");
      if (status.status === "completed") break;
      if (status.status === "failed" || status.status === "cancelled") {
        throw new Error(`saving the guest failed: ${status["error-desc"] ?? status.status}`);
      }
      if (Date.now() > deadline) throw new Error("saving the guest took too long");
      await Bun.sleep(10);
    }
    await Promise.race([
      arrived,
      Bun.sleep(SAVE_TIMEOUT_MS).then(() => Promise.reject(new Error("the saved state did not arrive"))),
    ]);
    fsyncSync(file);
    await qmp.command("quit").catch(() => {});
    await Promise.race([qemu.exited, Bun.sleep(5000)]);
  } finally {
    qmp?.close();
    server.stop(true);
    closeSync(file);
  }
}
