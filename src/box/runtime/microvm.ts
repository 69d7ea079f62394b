/**
 * The microVM backend: each box is a QEMU microVM booting a3s's own kernel and init, with the image
 * as a read-only erofs disk. The box's process runs under the guest init, which speaks the frame
 * protocol of native/init/PROTOCOL.md over a virtio-serial port; this class is the host side.
 *
 * Only the supervisor talks to the VM. Other a3s processes (exec, stop, kill) reach it through the
 * supervisor's attach socket, which forwards to the RunningProcess methods below.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Socket, Subprocess } from "bun";
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import { attachSocketPath, encodeFrame, Frame, FrameDecoder } from "../attach.ts";
import {
  encodeGuestFrame,
  exitCodeOf,
  GuestFrame,
  GuestFrameDecoder,
  type GuestProcess,
} from "../microvm/channel.ts";
import { type Accelerator, hostTscKhz, memoryMiB, qemuArgs, type VmShare, vcpus } from "../microvm/qemu.ts";
import type { VolumeMount } from "./options.ts";
import type { BoxRuntime, ExecOptions, RunIo, RunningProcess } from "./runtime.ts";
import type { OciSpec } from "./spec.ts";

const log = logger("box.microvm");

/** Under TCG a cold boot takes about a second; KVM far less. Past this, the VM is declared dead. */
const READY_TIMEOUT_MS = 60_000;

export interface VmAssets {
  qemu: string;
  kernel: string;
  initrd: string;
  accelerator: Accelerator;
}

/** Annotations the supervisor writes into config.json for this backend. */
export const ROOTFS_IMAGE_ANNOTATION = "a3s.rootfs.image";
export const VOLUMES_ANNOTATION = "a3s.volumes";

export class MicroVmRuntime implements BoxRuntime {
  readonly name = "microvm";

  constructor(
    private readonly assets: VmAssets,
    /** The box's directory, to reach its supervisor's socket from other processes. */
    private readonly boxDirOf: (id: string) => string,
  ) {}

  run(id: string, bundle: string, io: RunIo): RunningProcess {
    const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as OciSpec;
    const image = spec.annotations?.[ROOTFS_IMAGE_ANNOTATION];
    if (!image) throw new A3sError("internal", "config.json names no root disk for the microVM");
    const volumes = JSON.parse(spec.annotations?.[VOLUMES_ANNOTATION] ?? "[]") as VolumeMount[];
    const shares: VmShare[] = volumes.map((volume, index) => ({
      tag: `vol${index}`,
      source: volume.source,
      destination: volume.destination,
      readOnly: volume.readOnly,
    }));
    const controlSocket = attachSocketPath(bundle, `${id.slice(0, 8)}vm`).replace(/attach\.sock$/, "vm.sock");
    rmSync(controlSocket, { force: true });
    const resources = spec.linux?.resources;
    const tscKhz = hostTscKhz();
    const args = qemuArgs({
      qemu: this.assets.qemu,
      kernel: this.assets.kernel,
      initrd: this.assets.initrd,
      rootfsImage: image,
      controlSocket,
      consoleLog: join(bundle, "console.log"),
      memoryMiB: memoryMiB(resources?.memory?.limit),
      cpus: vcpus(resources?.cpu?.quota, resources?.cpu?.period),
      accelerator: this.assets.accelerator,
      shares,
      ...(tscKhz ? { tscKhz } : {}),
    });
    const main: GuestProcess = {
      args: spec.process.args,
      env: spec.process.env ?? [],
      cwd: spec.process.cwd,
      uid: spec.process.user.uid,
      gid: spec.process.user.gid,
      groups: spec.process.user.additionalGids ?? [],
      tty: io.tty !== undefined,
      stdin: io.stdin,
      hostname: spec.hostname ?? id.slice(0, 12),
    };
    return new VmSession(args, controlSocket, bundle, main, io).start();
  }

  exec(id: string, args: string[], options: ExecOptions, io: RunIo): RunningProcess {
    const spec: Partial<GuestProcess> = {
      args,
      env: options.env ?? [],
      cwd: options.cwd ?? "/",
      uid: options.user?.uid ?? 0,
      gid: options.user?.gid ?? 0,
      groups: options.user?.additionalGids ?? [],
      tty: io.tty !== undefined,
      stdin: io.stdin,
    };
    return execThroughSupervisor(attachSocketPath(this.boxDirOf(id), id), spec, io);
  }

  async signal(id: string, signal: string): Promise<void> {
    const socket = await Bun.connect({
      unix: attachSocketPath(this.boxDirOf(id), id),
      socket: { data() {} },
    });
    socket.write(encodeFrame(Frame.signal, signal));
    socket.end();
  }

  pid(): number | undefined {
    return undefined;
  }

  async delete(): Promise<void> {
    // A VM leaves no runtime state behind: when QEMU exits, the box is gone.
  }
}

/** One running VM, as seen by the supervisor: the main process plus execs on other streams. */
class VmSession {
  private child: Subprocess | undefined;
  private socket: Socket<undefined> | undefined;
  private readonly decoder = new GuestFrameDecoder();
  private readonly streams = new Map<number, { io: RunIo; done: (code: number) => void }>();
  private nextStream = 2;
  private pending: Uint8Array[] = [];
  private beforeStart: Uint8Array[] = [];
  private mainStarted = false;

  constructor(
    private readonly args: string[],
    private readonly controlSocket: string,
    private readonly bundle: string,
    private readonly main: GuestProcess,
    private readonly io: RunIo,
  ) {}

  start(): RunningProcess {
    let resolveMain: (code: number) => void = () => {};
    const exited = new Promise<number>((resolve) => {
      resolveMain = resolve;
    });
    this.streams.set(1, { io: this.io, done: resolveMain });
    const [command = "", ...rest] = this.args;
    this.child = Bun.spawn([command, ...rest], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const qemuDone = this.child.exited;
    this.connect().catch((err) => this.fail(1, `cannot reach the VM: ${(err as Error).message}`));
    qemuDone.then(async (code) => {
      // QEMU gone without an EXIT for the main process: the VM crashed or never booted.
      if (this.streams.has(1)) {
        const stderr = await new Response(this.child?.stderr as ReadableStream).text().catch(() => "");
        this.fail(
          1,
          `the microVM exited (${code}) before the box did${stderr ? `: ${stderr.trim()}` : ""}${this.consoleTail()}`,
        );
      }
    });
    return {
      exited: exited.then(async (code) => {
        await Promise.race([qemuDone, Bun.sleep(5000)]);
        this.child?.kill("SIGKILL");
        rmSync(this.controlSocket, { force: true });
        return code;
      }),
      writeStdin: (chunk) => this.send(GuestFrame.stdin, 1, chunk),
      endStdin: () => this.send(GuestFrame.stdinEnd, 1),
      resize: (cols, rows) => this.send(GuestFrame.resize, 1, JSON.stringify({ cols, rows })),
      signal: (signal) => this.send(GuestFrame.signal, 1, JSON.stringify({ signal: signalNumber(signal) })),
      exec: (spec, io) => this.exec(spec, io),
    };
  }

  private async connect(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        this.socket = await Bun.connect({
          unix: this.controlSocket,
          socket: {
            data: (_socket, chunk) =>
              this.decoder.push(chunk, (type, stream, payload) => this.onFrame(type, stream, payload)),
            close: () => log.debug("control channel closed"),
          },
        });
        for (const frame of this.pending) this.socket.write(frame);
        this.pending = [];
        return;
      } catch (err) {
        if (Date.now() > deadline || this.child?.exitCode !== null) throw err;
        await Bun.sleep(5);
      }
    }
  }

  private onFrame(type: number, stream: number, payload: Uint8Array): void {
    const target = this.streams.get(stream);
    switch (type) {
      case GuestFrame.ready:
        this.send(GuestFrame.start, 1, JSON.stringify(this.main));
        this.mainStarted = true;
        // stdin or a signal that came while the VM booted: the guest only knows stream 1 from now on.
        for (const frame of this.beforeStart) this.write(frame);
        this.beforeStart = [];
        return;
      case GuestFrame.stdout:
        target?.io.onStdout(payload);
        return;
      case GuestFrame.stderr:
        target?.io.onStderr(payload);
        return;
      case GuestFrame.exit:
        this.streams.delete(stream);
        target?.done(exitCodeOf(payload));
        return;
      case GuestFrame.error: {
        const { message, code } = JSON.parse(new TextDecoder().decode(payload)) as {
          message: string;
          code: number;
        };
        this.fail(stream, message, code);
        return;
      }
    }
  }

  private fail(stream: number, message: string, code = 125): void {
    const target = this.streams.get(stream);
    if (!target) return;
    this.streams.delete(stream);
    target.io.onStderr(new TextEncoder().encode(`${message}\n`));
    target.done(code);
  }

  private send(
    type: (typeof GuestFrame)[keyof typeof GuestFrame],
    stream: number,
    payload?: Uint8Array | string,
  ): void {
    const frame = encodeGuestFrame(type, stream, payload);
    if (stream === 1 && type !== GuestFrame.start && !this.mainStarted) this.beforeStart.push(frame);
    else this.write(frame);
  }

  private write(frame: Uint8Array): void {
    if (this.socket) this.socket.write(frame);
    else this.pending.push(frame);
  }

  private exec(spec: Partial<GuestProcess>, io: RunIo): RunningProcess {
    const stream = this.nextStream++;
    const exited = new Promise<number>((resolve) => this.streams.set(stream, { io, done: resolve }));
    this.send(GuestFrame.start, stream, JSON.stringify(spec));
    return {
      exited,
      writeStdin: (chunk) => this.send(GuestFrame.stdin, stream, chunk),
      endStdin: () => this.send(GuestFrame.stdinEnd, stream),
      resize: (cols, rows) => this.send(GuestFrame.resize, stream, JSON.stringify({ cols, rows })),
      signal: (signal) =>
        this.send(GuestFrame.signal, stream, JSON.stringify({ signal: signalNumber(signal) })),
    };
  }

  private consoleTail(): string {
    try {
      const lines = readFileSync(join(this.bundle, "console.log"), "utf8")
        .trim()
        .split("\n")
        .slice(-5)
        .join("\n");
      return lines ? `\n${lines}` : "";
    } catch {
      return "";
    }
  }
}

/** exec from a CLI process: the supervisor owns the VM, so the request goes through its socket. */
function execThroughSupervisor(socketPath: string, spec: Partial<GuestProcess>, io: RunIo): RunningProcess {
  let resolve: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => {
    resolve = r;
  });
  const decoder = new FrameDecoder();
  const connection = Bun.connect({
    unix: socketPath,
    socket: {
      data(_socket, chunk) {
        decoder.push(chunk, (type, payload) => {
          if (type === Frame.stdout) io.onStdout(payload);
          else if (type === Frame.stderr) io.onStderr(payload);
          else if (type === Frame.exit)
            resolve((JSON.parse(new TextDecoder().decode(payload)) as { exitCode: number }).exitCode);
        });
      },
      close() {
        resolve(125);
      },
    },
  }).then((socket) => {
    socket.write(encodeFrame(Frame.exec, JSON.stringify(spec)));
    return socket;
  });
  const send = (type: (typeof Frame)[keyof typeof Frame], payload?: Uint8Array | string) =>
    connection.then((socket) => socket.write(encodeFrame(type, payload)));
  return {
    exited,
    writeStdin: (chunk) => void send(Frame.stdin, chunk),
    endStdin: () => void send(Frame.stdinEnd),
    resize: (cols, rows) => void send(Frame.resize, JSON.stringify({ cols, rows })),
    signal: (signal) => void send(Frame.signal, signal),
  };
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15 };

function signalNumber(signal: string): number {
  const name = signal.toUpperCase().replace(/^SIG/, "");
  return /^\d+$/.test(name) ? Number(name) : (SIGNALS[name] ?? 15);
}
