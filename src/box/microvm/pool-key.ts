/**
 * What a saved guest must match to be restored, and the VM it is restored into. The key covers the
 * image, the kernel, initrd and QEMU files, the accelerator, memory, vCPUs and the whole machine and
 * device line; the layout is the same whether a guest is being warmed or restored, with the box's
 * own disk and volumes in the places the parked guest left for them.
 */
import { createHash } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import type { VmAssets } from "../runtime/microvm.ts";
import { type Accelerator, MAX_VOLUMES, qemuArgs, type VmConfig, type VmShare } from "./qemu.ts";

/** A restored guest has a 9p device for every volume a box can have. */
export const WARM_SHARES = MAX_VOLUMES;

export interface WarmShape {
  memoryMiB: number;
  cpus: number;
}

/** A file as far as a restore is concerned: where it is and which version of it. */
export interface FileIdentity {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface WarmKeyInput {
  imageId: string;
  kernel: FileIdentity;
  /** The initramfs's file name holds the hash of the init inside it. */
  initrd: string;
  qemu: FileIdentity;
  accelerator: Accelerator;
  memoryMiB: number;
  cpus: number;
  /** The machine and device line, with the paths that differ per box left out. */
  machine: string[];
}

/** What one box brings to a warm layout; the other shares are spares on an empty directory. */
export interface WarmBox {
  rootfsImage: string;
  controlSocket: string;
  consoleLog: string;
  upperDisk?: string;
  shares: VmShare[];
  emptyDir: string;
}

export function fileIdentity(path: string): FileIdentity {
  const real = realpathSync(path);
  const stats = statSync(real);
  return { path: real, size: stats.size, mtimeMs: Math.trunc(stats.mtimeMs), ino: stats.ino };
}

/** 16 hex digits of sha256 over the input: the pool directory's name. */
export function warmKey(input: WarmKeyInput): string {
  return createHash("sha256").update("a3s-warm\0").update(JSON.stringify(input)).digest("hex").slice(0, 16);
}

/**
 * The VM of a warm guest. The shares are always WARM_SHARES 9p devices, the box's volumes first: a
 * parked guest has not mounted them (QEMU cannot migrate a guest with a mounted 9p share), so each
 * restore points them at its own directories.
 */
export function warmVmConfig(assets: VmAssets, box: WarmBox, shape: WarmShape, tscKhz?: number): VmConfig {
  const shares = Array.from(
    { length: WARM_SHARES },
    (_, index): VmShare =>
      box.shares[index] ?? { tag: `vol${index}`, source: box.emptyDir, destination: "/", readOnly: true },
  );
  return {
    qemu: assets.qemu,
    kernel: assets.kernel,
    initrd: assets.initrd,
    rootfsImage: box.rootfsImage,
    controlSocket: box.controlSocket,
    consoleLog: box.consoleLog,
    memoryMiB: shape.memoryMiB,
    cpus: shape.cpus,
    accelerator: assets.accelerator,
    ...(box.upperDisk ? { upperDisk: box.upperDisk } : {}),
    shares,
    ...(tscKhz ? { tscKhz } : {}),
  };
}

export function warmKeyInput(assets: VmAssets, imageId: string, shape: WarmShape): WarmKeyInput {
  // The guest measured its clock when it booted; the TSC rate the host reports (cpu MHz may wander
  // with frequency scaling) must not make every state stale, so it is left out with the paths.
  const template = warmVmConfig(
    assets,
    {
      rootfsImage: "<rootfs>",
      controlSocket: "<control>",
      consoleLog: "<console>",
      upperDisk: "<upper>",
      shares: [],
      emptyDir: "<empty>",
    },
    shape,
  );
  return {
    imageId,
    kernel: fileIdentity(assets.kernel),
    initrd: assets.initrd.split("/").pop() ?? assets.initrd,
    qemu: fileIdentity(assets.qemu),
    accelerator: assets.accelerator,
    memoryMiB: shape.memoryMiB,
    cpus: shape.cpus,
    machine: qemuArgs(template).slice(1),
  };
}
