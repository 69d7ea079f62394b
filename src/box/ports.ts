/**
 * Published ports (`-p`): a userspace TCP forwarder, like Docker's docker-proxy. The host side
 * listens on each hostIp:hostPort in the host's network namespace. One helper process per box,
 * started inside the box's network namespace with nsenter, accepts the forwarded connections on a
 * Unix socket: each begins with the target port (2 bytes, big-endian), and the helper connects to
 * 127.0.0.1:<port> there. Bytes flow both ways with backpressure, and FIN travels through in both
 * directions, so half-closed protocols (a request, then shutdown(SHUT_WR)) keep working.
 *
 * The host ports are bound before the box starts (publishPorts), so a port already in use fails
 * the start before anything runs; the helper is attached once the box's network namespace exists
 * and detached when the box's process exits (a restart gets a new namespace, and a new helper).
 */
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket, Subprocess, TCPSocketListener } from "bun";
import { A3sError } from "../core/errors.ts";
import { logger } from "../core/log.ts";
import { READY_LINE } from "./ports/helper.ts";
import { abort, type End, link, newEnd, onClose, relay } from "./ports/relay.ts";
import type { PortMapping } from "./runtime/options.ts";

export { runForwardHelper } from "./ports/helper.ts";

const log = logger("box.ports");

const HELPER_READY_MS = 10_000;
const HELPER_STOP_MS = 2_000;
/** Unix socket paths are limited to 108 bytes; long homes fall back to a private dir under /tmp. */
const MAX_SOCKET_PATH = 100;

export interface ForwardTarget {
  /** A process inside the box's network namespace (the box's first process). */
  netnsPid: number;
  boxDir: string;
  boxId: string;
  /** The command that runs a3s itself (lifecycle.ts selfCommand(), plus global options). */
  command: string[];
}

export interface ForwardOptions extends ForwardTarget {
  mappings: PortMapping[];
}

export interface PortForwarder {
  /** The mappings as bound: a host port of 0 replaced by the one the system picked. */
  readonly bound: PortMapping[];
  /** Stops listening, closes every forwarded connection and stops the helper. */
  close(): Promise<void>;
}

/** Binds the host ports and connects them to the box's network namespace in one step. */
export async function startPortForwarding(options: ForwardOptions): Promise<PortForwarder> {
  const ports = publishPorts(options.mappings);
  try {
    await ports.attach(options);
  } catch (err) {
    await ports.close();
    throw err;
  }
  return ports;
}

/**
 * Binds every mapping's host port now. Connections accepted while no helper is attached are closed
 * at once, as a box that is not running refuses them; those accepted while one starts wait for it.
 */
export function publishPorts(mappings: readonly PortMapping[]): PublishedPorts {
  return new PublishedPorts(mappings);
}

interface Helper {
  child: Subprocess<"pipe", "pipe", number>;
  socketPath: string;
  /** Resolves with the socket path once the helper listens; rejects when it failed to start. */
  ready: Promise<string>;
}

export class PublishedPorts implements PortForwarder {
  readonly bound: PortMapping[] = [];
  private readonly listeners: TCPSocketListener<End>[] = [];
  private readonly connections = new Set<End>();
  private helper: Helper | undefined;

  constructor(mappings: readonly PortMapping[]) {
    try {
      for (const mapping of mappings) {
        const listener = this.listen(mapping);
        this.listeners.push(listener);
        this.bound.push({ ...mapping, hostPort: listener.port });
      }
    } catch (err) {
      for (const listener of this.listeners) listener.stop(true);
      throw err;
    }
  }

  private listen(mapping: PortMapping): TCPSocketListener<End> {
    const header = new Uint8Array([mapping.containerPort >> 8, mapping.containerPort & 0xff]);
    try {
      return Bun.listen<End>({
        hostname: mapping.hostIp,
        port: mapping.hostPort,
        exclusive: true,
        allowHalfOpen: true,
        socket: {
          ...relay,
          open: (socket) => this.accept(socket, header),
          close: (socket, error) => {
            this.connections.delete(socket.data);
            onClose(socket, error);
          },
        },
      });
    } catch (err) {
      throw bindError(err, mapping);
    }
  }

  private accept(socket: Socket<End>, header: Uint8Array): void {
    const host = newEnd(socket);
    socket.data = host;
    const ready = this.helper?.ready;
    if (!ready) {
      socket.terminate(); // the box is not running: as if nothing listened
      return;
    }
    const inner = newEnd();
    link(host, inner);
    // The header goes first; the client's bytes queue behind it (pausing the client) until connected.
    inner.queue.push(header);
    this.connections.add(host);
    ready
      .then((unix) => Bun.connect<End>({ unix, allowHalfOpen: true, data: inner, socket: relay }))
      .catch((err) => {
        log.debug("cannot reach the port forwarder", { err });
        abort(host);
      });
  }

  /** Starts the helper in the network namespace of `target.netnsPid`; resolves once it listens. */
  async attach(target: ForwardTarget): Promise<void> {
    await this.detach();
    const socketPath = forwardSocketPath(target.boxDir, target.boxId);
    rmSync(socketPath, { force: true });
    const nsenter = Bun.which("nsenter");
    if (!nsenter) {
      throw new A3sError("runtime", "publishing ports needs nsenter, which is not installed", {
        hint: "install util-linux",
      });
    }
    const logFd = openSync(join(target.boxDir, "supervisor.log"), "a", 0o600);
    let child: Helper["child"];
    try {
      child = Bun.spawn(
        [
          nsenter,
          `--net=/proc/${target.netnsPid}/ns/net`,
          "--",
          ...target.command,
          "box",
          "forward-helper",
          socketPath,
        ],
        // stdin stays open for the helper's life: when it closes (we died), the helper exits.
        { stdin: "pipe", stdout: "pipe", stderr: logFd },
      );
    } finally {
      closeSync(logFd);
    }
    const ready = waitReady(child).then(() => socketPath);
    const helper: Helper = { child, socketPath, ready };
    this.helper = helper;
    ready.catch(() => {}); // connections waiting on it handle the failure themselves
    try {
      await ready;
    } catch (err) {
      if (this.helper === helper) await this.detach();
      throw err;
    }
    log.debug(`forwarding ${this.bound.length} port(s) into the namespace of pid ${target.netnsPid}`);
  }

  /** Stops the helper and closes the connections going through it; the host ports stay bound. */
  async detach(): Promise<void> {
    const helper = this.helper;
    this.helper = undefined;
    for (const connection of this.connections) abort(connection);
    this.connections.clear();
    if (!helper) return;
    try {
      helper.child.stdin.end();
    } catch {
      // already closed
    }
    helper.child.kill("SIGTERM");
    const stopped = await Promise.race([helper.child.exited.then(() => true), Bun.sleep(HELPER_STOP_MS)]);
    if (!stopped) {
      helper.child.kill("SIGKILL");
      await helper.child.exited;
    }
    rmSync(helper.socketPath, { force: true });
  }

  async close(): Promise<void> {
    for (const listener of this.listeners) listener.stop(true);
    this.listeners.length = 0;
    await this.detach();
  }
}

function bindError(err: unknown, mapping: PortMapping): A3sError {
  const address = mapping.hostIp.includes(":")
    ? `[${mapping.hostIp}]:${mapping.hostPort}`
    : `${mapping.hostIp}:${mapping.hostPort}`;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE") {
    // Docker's words, which scripts grep for.
    return new A3sError("conflict", `Bind for ${address} failed: port is already allocated`, { cause: err });
  }
  if (code === "EACCES" || code === "EPERM") {
    return new A3sError("permission", `cannot bind ${address}: permission denied`, {
      hint: "ports below 1024 need root (or CAP_NET_BIND_SERVICE)",
      cause: err,
    });
  }
  if (code === "EADDRNOTAVAIL") {
    return new A3sError("usage", `cannot bind ${address}: the address is not one of this host's`, {
      cause: err,
    });
  }
  return new A3sError("runtime", `cannot bind ${address}: ${(err as Error).message}`, { cause: err });
}

/** Reads the helper's stdout until it reports that it listens, or fails when it exits first. */
async function waitReady(child: Helper["child"]): Promise<void> {
  const reader = child.stdout.getReader();
  let text = "";
  const deadline = Bun.sleep(HELPER_READY_MS).then(() => "timeout" as const);
  try {
    while (!text.includes(READY_LINE)) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === "timeout") {
        child.kill("SIGKILL");
        throw new A3sError("runtime", `the port forwarder did not start within ${HELPER_READY_MS / 1000} s`);
      }
      if (next.done) {
        const code = await child.exited;
        throw new A3sError(
          "runtime",
          `the port forwarder exited with code ${code} before it was ready (see the box's supervisor.log)`,
        );
      }
      text += new TextDecoder().decode(next.value);
    }
  } finally {
    reader.releaseLock();
  }
}

/** The Unix socket the helper listens on: in the box's directory, or under /tmp when that is too long. */
export function forwardSocketPath(boxDir: string, boxId: string): string {
  const preferred = join(boxDir, "ports.sock");
  if (preferred.length <= MAX_SOCKET_PATH) return preferred;
  const dir = join(tmpdir(), `a3s-${process.getuid?.() ?? 0}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tag = createHash("sha256").update(boxDir).digest("hex").slice(0, 12);
  return join(dir, `${boxId.slice(0, 12)}-${tag}-ports.sock`);
}
