/**
 * The host side of the guest control channel (native/init/PROTOCOL.md): frames of
 * [type u8][stream u32][length u32][payload] over the VM's virtio-serial port.
 */
export const GuestFrame = {
  start: 1,
  stdin: 2,
  stdinEnd: 3,
  signal: 4,
  resize: 5,
  shutdown: 6,
  ready: 16,
  stdout: 17,
  stderr: 18,
  exit: 19,
  error: 20,
} as const;

export type GuestFrameType = (typeof GuestFrame)[keyof typeof GuestFrame];

/** What the guest init runs: PROTOCOL.md's process spec. */
export interface GuestProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  tty: boolean;
  stdin: boolean;
  hostname?: string;
}

/** A 9p share the guest mounts at START of stream 1 (its tag names the QEMU device). */
export interface GuestVolume {
  tag: string;
  path: string;
  readonly: boolean;
}

/**
 * START of stream 1: the box's process plus the VM-wide settings of a deferred boot, namely the upper
 * layer ("tmpfs" or a device) and volumes, and the host's clock (Unix ms) and entropy (hex), which a
 * guest restored from a snapshot would otherwise take from the moment it was saved.
 */
export interface GuestStart extends GuestProcess {
  upper: string;
  volumes: GuestVolume[];
  time: number;
  seed: string;
}

const HEADER = 9;

export function encodeGuestFrame(
  type: GuestFrameType,
  stream: number,
  payload: Uint8Array | string = "",
): Uint8Array {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const frame = new Uint8Array(HEADER + body.length);
  const view = new DataView(frame.buffer);
  view.setUint8(0, type);
  view.setUint32(1, stream);
  view.setUint32(5, body.length);
  frame.set(body, HEADER);
  return frame;
}

export class GuestFrameDecoder {
  private buffer = new Uint8Array(0);

  push(
    chunk: Uint8Array,
    onFrame: (type: GuestFrameType, stream: number, payload: Uint8Array) => void,
  ): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let offset = 0;
    while (joined.length - offset >= HEADER) {
      const view = new DataView(joined.buffer, joined.byteOffset + offset);
      const length = view.getUint32(5);
      if (joined.length - offset - HEADER < length) break;
      onFrame(
        view.getUint8(0) as GuestFrameType,
        view.getUint32(1),
        joined.subarray(offset + HEADER, offset + HEADER + length),
      );
      offset += HEADER + length;
    }
    this.buffer = joined.slice(offset);
  }
}

/** EXIT's payload as a Docker-style exit code: the code, or 128 + the signal that killed it. */
export function exitCodeOf(payload: Uint8Array): number {
  const message = JSON.parse(new TextDecoder().decode(payload)) as { code?: number; signal?: number };
  return message.signal !== undefined ? 128 + message.signal : (message.code ?? 0);
}
