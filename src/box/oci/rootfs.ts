/**
 * A box's root filesystem, assembled from the layer cache in milliseconds: an overlay mount of the
 * cached layers (read-only lowers, a per-box upper) where the kernel and privileges allow, otherwise
 * a private copy made by unpacking the layers in order.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { mount, umount } from "../../core/libc.ts";
import type { BlobStore } from "./blobs.ts";
import type { ImageRecord } from "./images.ts";
import type { LayerCache } from "./layers.ts";
import { unpackLayer } from "./unpack.ts";

export type RootfsMode = "overlay" | "copy";

export interface Rootfs {
  /** The directory to use as the box's root. */
  path: string;
  mode: RootfsMode;
  /** Unmounts an overlay (the upper dir, the box's changes, stays in place). */
  release(): void;
}

export interface AssembleOptions {
  mode?: RootfsMode | "auto";
}

/** Page-sized mount data: the kernel rejects longer option strings. */
const MAX_MOUNT_DATA = 4000;

export function overlaySupported(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  try {
    return /\toverlay$/m.test(readFileSync("/proc/filesystems", "utf8"));
  } catch {
    return false;
  }
}

/**
 * Builds the rootfs of `image` under `dir` (a box's own directory): dir/upper, dir/work and
 * dir/rootfs for an overlay, or dir/rootfs holding a full copy.
 */
export async function assembleRootfs(
  stores: { layers: LayerCache; blobs: BlobStore },
  image: ImageRecord,
  dir: string,
  options: AssembleOptions = {},
): Promise<Rootfs> {
  for (const layer of image.layers) {
    if (!stores.layers.has(layer.diffId)) {
      throw new A3sError(
        "not_found",
        `layer ${layer.diffId} of image ${image.id.slice(7, 19)} is not unpacked`,
        {
          hint: "pull the image again",
        },
      );
    }
  }
  const path = join(dir, "rootfs");
  mkdirSync(path, { recursive: true });
  const lowers = image.layers.map((l) => stores.layers.path(l.diffId)).reverse();
  const data = `lowerdir=${lowers.join(":")},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`;
  const wanted = options.mode ?? "auto";
  const useOverlay =
    wanted === "overlay" || (wanted === "auto" && overlaySupported() && data.length < MAX_MOUNT_DATA);
  if (useOverlay) {
    if (lowers.length === 0) throw new A3sError("usage", "an image without layers cannot be mounted");
    unmountQuietly(path); // a mount left by a supervisor that died
    mkdirSync(join(dir, "upper"), { recursive: true });
    mkdirSync(join(dir, "work"), { recursive: true });
    try {
      mount("overlay", path, "overlay", 0, data);
    } catch (err) {
      throw new A3sError("runtime", `cannot mount the overlay rootfs: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { path, mode: "overlay", release: () => unmountQuietly(path) };
  }
  // A copy is the box's filesystem itself: made once, kept across restarts like an upper dir.
  const complete = join(dir, "rootfs.copied");
  if (!existsSync(complete)) {
    for (const layer of image.layers) {
      await unpackLayer(stores.blobs.path(layer.digest), path, { whiteouts: "apply" });
    }
    writeFileSync(complete, "");
  }
  return { path, mode: "copy", release: () => {} };
}

function unmountQuietly(path: string): void {
  try {
    umount(path);
  } catch (err) {
    // Not mounted (EINVAL), or never could have been (EPERM: a copy made without privileges).
    if (!["EINVAL", "EPERM", "ENOENT"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
  }
}

/** Unmounts a box's overlay if it is mounted; its upper dir (the box's changes) stays. */
export function unmountRootfs(dir: string): void {
  const path = join(dir, "rootfs");
  if (existsSync(path)) unmountQuietly(path);
}

/** Removes a box's rootfs directories after releasing any mount. */
export function destroyRootfs(dir: string): void {
  unmountRootfs(dir);
  for (const name of ["rootfs", "upper", "work", "rootfs.copied"])
    rmSync(join(dir, name), { recursive: true, force: true });
}
