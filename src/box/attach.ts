/**
 * The wire between a box's supervisor and the clients attached to it (`run` without -d, `start -a`):
 * a Unix socket in the box's directory carrying length-prefixed frames, so stdout and stderr stay
 * separate, stdin and terminal resizes flow back, and the exit code arrives after the last output.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const Frame = {
  stdin: 1,
  stdinEnd: 2,
  resize: 3,
  signal: 4,
  /** First frame of an exec client (JSON ExecRequest); the connection then belongs to that process. */
  exec: 5,
  stdout: 10,
  stderr: 11,
  exit: 12,
} as const;

export type FrameType = (typeof Frame)[keyof typeof Frame];

export interface ExitMessage {
  exitCode: number;
  error?: string;
}

const HEADER = 5;

export function encodeFrame(type: FrameType, payload: Uint8Array | string = new Uint8Array()): Uint8Array {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const frame = new Uint8Array(HEADER + body.length);
  const view = new DataView(frame.buffer);
  view.setUint8(0, type);
  view.setUint32(1, body.length);
  frame.set(body, HEADER);
  return frame;
}

/** Reassembles frames from arbitrary socket chunks. */
export class FrameDecoder {
  private buffer = new Uint8Array(0);

  push(chunk: Uint8Array, onFrame: (type: FrameType, payload: Uint8Array) => void): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let offset = 0;
    while (joined.length - offset >= HEADER) {
      const view = new DataView(joined.buffer, joined.byteOffset + offset);
      const length = view.getUint32(1);
      if (joined.length - offset - HEADER < length) break;
      const type = view.getUint8(0) as FrameType;
      onFrame(type, joined.subarray(offset + HEADER, offset + HEADER + length));
      offset += HEADER + length;
    }
    this.buffer = joined.slice(offset);
  }
}

/** Unix socket paths are limited to 108 bytes; long homes fall back to a private dir under /tmp. */
const MAX_SOCKET_PATH = 100;

export function attachSocketPath(boxDir: string, boxId: string): string {
  const preferred = join(boxDir, "attach.sock");
  if (preferred.length <= MAX_SOCKET_PATH) return preferred;
  const dir = join(tmpdir(), `a3s-${process.getuid?.() ?? 0}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tag = createHash("sha256").update(boxDir).digest("hex").slice(0, 12);
  return join(dir, `${boxId.slice(0, 12)}-${tag}.sock`);
}

export interface AttachHandlers {
  onStdout(chunk: Uint8Array): void;
  onStderr(chunk: Uint8Array): void;
}

export interface AttachClient {
  send(type: FrameType, payload?: Uint8Array | string): void;
  /** Resolves when the supervisor reports the box's exit. */
  exit: Promise<ExitMessage>;
  close(): void;
}

/**
 * Connects to a supervisor's socket, retrying while the supervisor is still starting; `alive` lets
 * the caller stop waiting as soon as the supervisor is known to be dead.
 */
export async function connectAttach(
  socketPath: string,
  handlers: AttachHandlers,
  alive: () => boolean,
  timeoutMs = 10_000,
): Promise<AttachClient> {
  let resolveExit: (message: ExitMessage) => void = () => {};
  let rejectExit: (err: Error) => void = () => {};
  const exit = new Promise<ExitMessage>((resolve, reject) => {
    resolveExit = resolve;
    rejectExit = reject;
  });
  const decoder = new FrameDecoder();
  let exited = false;
  const deadline = Date.now() + timeoutMs;
  // A flat, short retry: the supervisor listens ~15 ms after its spawn, and a failed connect to a
  // missing socket costs microseconds.
  for (const delay = 2; ; ) {
    try {
      const socket = await Bun.connect({
        unix: socketPath,
        socket: {
          data(_socket, chunk) {
            decoder.push(chunk, (type, payload) => {
              if (type === Frame.stdout) handlers.onStdout(payload);
              else if (type === Frame.stderr) handlers.onStderr(payload);
              else if (type === Frame.exit) {
                exited = true;
                resolveExit(JSON.parse(new TextDecoder().decode(payload)) as ExitMessage);
              }
            });
          },
          close() {
            if (!exited)
              rejectExit(new Error("the box's supervisor closed the connection without an exit status"));
          },
          error(_socket, err) {
            if (!exited) rejectExit(err);
          },
        },
      });
      return {
        send: (type, payload) => socket.write(encodeFrame(type, payload)),
        exit,
        close: () => socket.end(),
      };
    } catch (err) {
      if (!alive() || Date.now() > deadline) {
        throw new Error(`cannot attach to the box: ${(err as Error).message}`);
      }
      await Bun.sleep(delay);
    }
  }
}
