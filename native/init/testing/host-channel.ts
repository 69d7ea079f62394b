/**
 * The host end of the control channel, as small as the init tests need: frames encoded and
 * decoded per PROTOCOL.md over QEMU's unix socket, and waiting for frames with a deadline.
 */
import type { Socket } from "bun";

export const FrameType = {
  START: 1,
  STDIN: 2,
  STDIN_EOF: 3,
  SIGNAL: 4,
  RESIZE: 5,
  SHUTDOWN: 6,
  READY: 16,
  STDOUT: 17,
  STDERR: 18,
  EXIT: 19,
  ERROR: 20,
} as const;

export interface Frame {
  type: number;
  stream: number;
  payload: Uint8Array;
  /** performance.now() when it arrived */
  at: number;
}

export interface ProcessSpec {
  args: string[];
  env?: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  groups?: number[];
  tty?: boolean;
  stdin?: boolean;
  hostname?: string;
  /** Stream 1 only: the upper layer and volumes of a deferred root, the clock (Unix ms), entropy (hex). */
  upper?: string;
  volumes?: Array<{ tag: string; path: string; readonly?: boolean }>;
  time?: number;
  seed?: string;
}

/** How a stream ended: EXIT (code or signal) or ERROR, with all its output. */
export interface Outcome {
  stdout: string;
  stderr: string;
  exit?: { code?: number; signal?: number };
  error?: { message: string; code: number };
  /** performance.now() of the EXIT or ERROR */
  at: number;
}

const HEADER = 9;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeFrame(type: number, stream: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint8(0, type);
  view.setUint32(1, stream);
  view.setUint32(5, payload.length);
  frame.set(payload, HEADER);
  return frame;
}

export class HostChannel {
  readonly frames: Frame[] = [];
  private input: Uint8Array = new Uint8Array();
  private pendingWrite: Uint8Array = new Uint8Array();
  private listeners = new Set<() => void>();
  private socket!: Socket<undefined>;
  private closedAt: number | undefined;

  /** Connects to QEMU's chardev socket, retrying while QEMU has not created it yet. */
  static async connect(path: string, timeoutMs: number): Promise<HostChannel> {
    const channel = new HostChannel();
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        channel.socket = await Bun.connect({
          unix: path,
          socket: {
            data: (_socket, chunk) => channel.receive(chunk),
            drain: () => channel.flush(),
            close: () => channel.markClosed(),
            error: () => channel.markClosed(),
          },
        });
        return channel;
      } catch (error) {
        if (performance.now() > deadline) throw new Error(`cannot connect to ${path}: ${error}`);
        await Bun.sleep(10);
      }
    }
  }

  send(type: number, stream: number, payload: Uint8Array | string | object = new Uint8Array()): void {
    const bytes =
      payload instanceof Uint8Array
        ? payload
        : encoder.encode(typeof payload === "string" ? payload : JSON.stringify(payload));
    this.pendingWrite = concat(this.pendingWrite, encodeFrame(type, stream, bytes));
    this.flush();
  }

  start(stream: number, spec: ProcessSpec): void {
    this.send(FrameType.START, stream, spec);
  }

  /** Resolves with the first frame (already received or yet to come) that `matches`. */
  waitFor(matches: (frame: Frame) => boolean, timeoutMs: number, what: string): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const frame = this.frames.find(matches);
        if (frame) resolve(frame);
        else if (this.closedAt !== undefined)
          reject(new Error(`the guest closed the channel before ${what}`));
        else return false;
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const listener = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }

  /** Everything a stream wrote to one of its outputs so far. */
  bytes(stream: number, type: number): Uint8Array {
    const parts = this.frames.filter((frame) => frame.stream === stream && frame.type === type);
    return concat(...parts.map((frame) => frame.payload));
  }

  text(stream: number, type: number): string {
    return decoder.decode(this.bytes(stream, type));
  }

  /** Waits for a stream's EXIT or ERROR. */
  async outcome(stream: number, timeoutMs = 30_000): Promise<Outcome> {
    const end = await this.waitFor(
      (frame) => frame.stream === stream && (frame.type === FrameType.EXIT || frame.type === FrameType.ERROR),
      timeoutMs,
      `EXIT or ERROR of stream ${stream}`,
    );
    const result = JSON.parse(decoder.decode(end.payload));
    return {
      stdout: this.text(stream, FrameType.STDOUT),
      stderr: this.text(stream, FrameType.STDERR),
      ...(end.type === FrameType.EXIT ? { exit: result } : { error: result }),
      at: end.at,
    };
  }

  close(): void {
    this.socket?.end();
  }

  private receive(chunk: Uint8Array): void {
    this.input = concat(this.input, chunk);
    while (this.input.length >= HEADER) {
      const view = new DataView(this.input.buffer, this.input.byteOffset, this.input.length);
      const length = view.getUint32(5);
      if (this.input.length < HEADER + length) break;
      this.frames.push({
        type: view.getUint8(0),
        stream: view.getUint32(1),
        payload: this.input.slice(HEADER, HEADER + length),
        at: performance.now(),
      });
      this.input = this.input.slice(HEADER + length);
    }
    this.notify();
  }

  private flush(): void {
    if (!this.socket || this.pendingWrite.length === 0) return;
    const written = this.socket.write(this.pendingWrite);
    this.pendingWrite = this.pendingWrite.slice(Math.max(written, 0));
  }

  private markClosed(): void {
    this.closedAt ??= performance.now();
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
