/**
 * A microVM's root disk: the image's layers flattened into a read-only erofs image, built once per
 * image (images/erofs/<config digest>.img) without root mounts, and shared by every VM of the image.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import type { Paths } from "../../core/paths.ts";
import type { BlobStore } from "../oci/blobs.ts";
import type { ImageRecord } from "../oci/images.ts";
import { unpackLayer } from "../oci/unpack.ts";

export function rootfsImagePath(paths: Paths, image: ImageRecord): string {
  return join(paths.images, "erofs", `${image.id.replace(/^sha256:/, "")}.img`);
}

export async function ensureRootfsImage(
  stores: { paths: Paths; blobs: BlobStore },
  image: ImageRecord,
): Promise<string> {
  const target = rootfsImagePath(stores.paths, image);
  if (existsSync(target)) return target;
  if (!Bun.which("mkfs.erofs")) {
    throw new A3sError("runtime", "mkfs.erofs is not installed: microVM root disks are erofs images", {
      hint: "install erofs-utils (apt install erofs-utils)",
    });
  }
  const staging = join(stores.paths.tmp, `erofs-${randomBytes(6).toString("hex")}`);
  mkdirSync(join(staging, "root"), { recursive: true });
  mkdirSync(join(target, ".."), { recursive: true });
  try {
    for (const layer of image.layers) {
      await unpackLayer(stores.blobs.path(layer.digest), join(staging, "root"), { whiteouts: "apply" });
    }
    const built = join(staging, "rootfs.img");
    const result = Bun.spawnSync(["mkfs.erofs", "--quiet", built, join(staging, "root")], { stderr: "pipe" });
    if (result.exitCode !== 0) {
      throw new A3sError("runtime", `mkfs.erofs failed: ${result.stderr.toString().trim()}`);
    }
    renameSync(built, target);
    return target;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
