/**
 * A microVM box's writable layer: boxes/<id>/upper.ext4, a sparse ext4 image of UPPER_DISK_BYTES made
 * at the box's first start and kept until the box is removed, so files written inside survive stop
 * and start. The guest mounts it as the overlay's upper layer (/dev/vdb); snapshots copy it.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { UPPER_DISK_BYTES } from "./qemu.ts";

export const UPPER_DISK_FILE = "upper.ext4";

export function upperDiskPath(boxDir: string): string {
  return join(boxDir, UPPER_DISK_FILE);
}

/**
 * The box's disk, made now when it has none. mkfs.ext4 on a sparse file takes a few milliseconds and
 * a couple of megabytes: inode tables and the journal are left to read as the zeros they are (the
 * guest mounts with noinit_itable). The disk appears by rename, so a failed start leaves none behind.
 */
export function ensureUpperDisk(boxDir: string): string {
  const target = upperDiskPath(boxDir);
  if (existsSync(target)) return target;
  if (!Bun.which("mkfs.ext4")) {
    throw new A3sError(
      "runtime",
      "mkfs.ext4 is not installed: microVM boxes keep their files on an ext4 disk",
      {
        hint: "install e2fsprogs (apt install e2fsprogs)",
      },
    );
  }
  const staging = `${target}.new`;
  rmSync(staging, { force: true });
  const result = Bun.spawnSync(
    [
      "mkfs.ext4",
      "-q",
      "-F",
      "-m",
      "0",
      "-E",
      "lazy_itable_init=1,lazy_journal_init=1",
      "-L",
      "a3s-upper",
      staging,
      `${UPPER_DISK_BYTES / 1024}k`,
    ],
    { stderr: "pipe" },
  );
  if (result.exitCode !== 0) {
    rmSync(staging, { force: true });
    throw new A3sError("runtime", `mkfs.ext4 failed: ${result.stderr.toString().trim()}`);
  }
  renameSync(staging, target);
  return target;
}

const SUPERBLOCK = 1024;
const EXT4_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;

/**
 * Refuses a disk that is missing, not ext4, or shorter than its filesystem (a truncated copy): what
 * the guest would otherwise fail to mount, after a box had been made of it.
 */
export function checkUpperDisk(path: string, what: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new A3sError("not_found", `${what}: ${path} is missing`);
  }
  const block = new Uint8Array(1024);
  const fd = openSync(path, "r");
  try {
    readSync(fd, block, 0, block.length, SUPERBLOCK);
  } finally {
    closeSync(fd);
  }
  const view = new DataView(block.buffer);
  if (size < SUPERBLOCK + block.length || view.getUint16(56, true) !== EXT4_MAGIC) {
    throw new A3sError("integrity", `${what}: ${path} is not an ext4 filesystem`);
  }
  const blockSize = 1024 * 2 ** view.getUint32(24, true);
  const is64bit = (view.getUint32(0x60, true) & INCOMPAT_64BIT) !== 0;
  const blocks = view.getUint32(4, true) + (is64bit ? view.getUint32(0x150, true) * 2 ** 32 : 0);
  if (blocks * blockSize > size) {
    throw new A3sError(
      "integrity",
      `${what}: ${path} is truncated (${size} bytes, its filesystem needs ${blocks * blockSize})`,
    );
  }
}

/** Copies a disk image keeping it sparse, sharing blocks where the filesystem can (reflink). */
export function copyDisk(source: string, destination: string): void {
  const staging = `${destination}.new`;
  const result = Bun.spawnSync(["cp", "--sparse=always", "--reflink=auto", source, staging], {
    stderr: "pipe",
  });
  if (result.exitCode !== 0) {
    rmSync(staging, { force: true });
    throw new A3sError("runtime", `copying ${source} failed: ${result.stderr.toString().trim()}`);
  }
  renameSync(staging, destination);
}

/** Bytes the disk really takes (it is sparse): what a snapshot of it costs. */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}
