/**
 * The microVM backend: each box is a QEMU microVM booting a3s's own kernel and init, with the image
 * as a read-only erofs disk and the box's own ext4 disk as the writable layer. The box's process runs
 * under the guest init, which speaks the frame protocol of native/init/PROTOCOL.md over a
 * virtio-serial port; this class is the host side. When the warm pool holds a saved guest of the
 * box's image and shape, the VM is restored from it instead of booted; a state that cannot be
 * restored is removed and the box boots cold.
 *
 * Only the supervisor talks to the VM. Other a3s processes (exec, stop, kill) reach it through the
 * supervisor's attach socket, which forwards to the RunningProcess methods below.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import { attachSocketPath, encodeFrame, Frame, FrameDecoder } from "../attach.ts";
import type { GuestProcess, GuestStart } from "../microvm/channel.ts";
import { emptyShareDir, findWarm, removeWarm } from "../microvm/pool.ts";
import { type WarmBox, type WarmShape, warmKey, warmKeyInput, warmVmConfig } from "../microvm/pool-key.ts";
import {
  type Accelerator,
  hostTscKhz,
  MAX_VOLUMES,
  memoryMiB,
  qemuArgs,
  UPPER_DEVICE,
  UPPER_DISK_BYTES,
  type VmShare,
  vcpus,
} from "../microvm/qemu.ts";
import type { VolumeMount } from "./options.ts";
import type { BoxRuntime, ExecOptions, RunIo, RunningProcess } from "./runtime.ts";
import type { OciSpec } from "./spec.ts";
import { type VmBoot, VmSession, warn } from "./vm-session.ts";

export { readVmStart, type VmStart } from "./vm-session.ts";

const log = logger("box.microvm");

export interface VmAssets {
  qemu: string;
  kernel: string;
  initrd: string;
  accelerator: Accelerator;
}

/** Annotations the supervisor writes into config.json for this backend. */
export const ROOTFS_IMAGE_ANNOTATION = "a3s.rootfs.image";
export const IMAGE_ID_ANNOTATION = "a3s.image.id";
/** The box's upper disk (boxes/<id>/upper.ext4), or "tmpfs" for a box without one. */
export const UPPER_ANNOTATION = "a3s.upper";
export const VOLUMES_ANNOTATION = "a3s.volumes";

export class MicroVmRuntime implements BoxRuntime {
  readonly name = "microvm";

  constructor(
    private readonly assets: VmAssets,
    /** The box's directory, to reach its supervisor's socket from other processes. */
    private readonly boxDirOf: (id: string) => string,
    /** The warm pool (~/.a3s/pool). */
    private readonly poolDir: string,
  ) {}

  run(id: string, bundle: string, io: RunIo): RunningProcess {
    const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as OciSpec;
    const annotations = spec.annotations ?? {};
    const image = annotations[ROOTFS_IMAGE_ANNOTATION];
    if (!image) throw new A3sError("internal", "config.json names no root disk for the microVM");
    const volumes = JSON.parse(annotations[VOLUMES_ANNOTATION] ?? "[]") as VolumeMount[];
    if (volumes.length > MAX_VOLUMES) {
      throw new A3sError("usage", `a microVM box can have at most ${MAX_VOLUMES} volumes`, { exitCode: 125 });
    }
    const shares: VmShare[] = volumes.map((volume, index) => ({
      tag: `vol${index}`,
      source: volume.source,
      destination: volume.destination,
      readOnly: volume.readOnly,
    }));
    const upper = annotations[UPPER_ANNOTATION] ?? "tmpfs";
    const upperDisk = upper === "tmpfs" ? undefined : upper;
    const controlSocket = attachSocketPath(bundle, `${id.slice(0, 8)}vm`).replace(/attach\.sock$/, "vm.sock");
    const resources = spec.linux?.resources;
    const shape: WarmShape = {
      memoryMiB: memoryMiB(resources?.memory?.limit),
      cpus: vcpus(resources?.cpu?.quota, resources?.cpu?.period),
    };
    const tscKhz = hostTscKhz();
    const consoleLog = join(bundle, "console.log");
    const cold = qemuArgs({
      qemu: this.assets.qemu,
      kernel: this.assets.kernel,
      initrd: this.assets.initrd,
      rootfsImage: image,
      controlSocket,
      consoleLog,
      ...shape,
      accelerator: this.assets.accelerator,
      ...(upperDisk ? { upperDisk } : {}),
      shares,
      ...(tscKhz ? { tscKhz } : {}),
    });
    const warmBox = {
      rootfsImage: image,
      controlSocket,
      consoleLog,
      ...(upperDisk ? { upperDisk } : {}),
      shares,
    };
    const warm = this.warmBoot(annotations[IMAGE_ID_ANNOTATION], warmBox, shape, tscKhz, io);
    const main: Omit<GuestStart, "time" | "seed"> = {
      args: spec.process.args,
      env: spec.process.env ?? [],
      cwd: spec.process.cwd,
      uid: spec.process.user.uid,
      gid: spec.process.user.gid,
      groups: spec.process.user.additionalGids ?? [],
      tty: io.tty !== undefined,
      stdin: io.stdin,
      hostname: spec.hostname ?? id.slice(0, 12),
      upper: upperDisk ? UPPER_DEVICE : "tmpfs",
      volumes: shares.map((share) => ({ tag: share.tag, path: share.destination, readonly: share.readOnly })),
    };
    return new VmSession({ cold, ...(warm ? { warm } : {}) }, controlSocket, bundle, main, io).start();
  }

  /** The restore of a saved guest that fits this box, when the pool has one. */
  private warmBoot(
    imageId: string | undefined,
    box: Omit<WarmBox, "emptyDir">,
    shape: WarmShape,
    tscKhz: number | undefined,
    io: RunIo,
  ): VmBoot["warm"] {
    if (!imageId) return undefined;
    if (box.upperDisk && diskSize(box.upperDisk) !== UPPER_DISK_BYTES) {
      log.debug(`${box.upperDisk} is not ${UPPER_DISK_BYTES} bytes, as a warm guest's disk is: booting cold`);
      return undefined;
    }
    let key: string;
    try {
      key = warmKey(warmKeyInput(this.assets, imageId, shape));
    } catch (err) {
      log.debug("no warm key", { error: err });
      return undefined;
    }
    const found = findWarm(this.poolDir, key);
    if (found.kind === "none") return undefined;
    if (found.kind === "broken") {
      removeWarm(this.poolDir, key);
      warn(io, `the warm snapshot ${key} cannot be used: ${found.reason}; it was removed, booting cold`);
      return undefined;
    }
    const config = warmVmConfig(
      this.assets,
      { ...box, emptyDir: emptyShareDir(this.poolDir) },
      shape,
      tscKhz,
    );
    return {
      key,
      args: qemuArgs({ ...config, incomingState: found.state }),
      discard: () => removeWarm(this.poolDir, key),
    };
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

function diskSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
