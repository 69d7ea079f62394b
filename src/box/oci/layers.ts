/**
 * The unpacked-layer cache: images/layers/<diff-id hex>/fs holds one layer's files, extracted once
 * and shared by every image and box that uses the layer. Whiteouts are stored the way overlayfs
 * reads them (0/0 character devices, trusted.overlay.opaque), so a rootfs is an overlay mount of
 * cached layers; layer.json records them too, for machines where overlayfs is not available.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import { digestHex } from "./blobs.ts";
import { type UnpackResult, unpackLayer } from "./unpack.ts";

export interface LayerInfo {
  diffId: string;
  /** Bytes of file content in the layer, uncompressed. */
  size: number;
  entries: number;
  whiteouts: Array<{ path: string; opaque: boolean }>;
  unpackedAt: string;
}

const INFO = "layer.json";

export class LayerCache {
  constructor(readonly dir: string) {}

  /** The layer's own files, to be used as an overlay lowerdir. */
  path(diffId: string): string {
    return join(this.dir, digestHex(diffId), "fs");
  }

  has(diffId: string): boolean {
    return existsSync(join(this.dir, digestHex(diffId), INFO));
  }

  info(diffId: string): LayerInfo | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, digestHex(diffId), INFO), "utf8")) as LayerInfo;
    } catch {
      return undefined;
    }
  }

  /**
   * Extracts a layer blob into the cache unless it is there already. The uncompressed stream must hash
   * to `diffId`; otherwise nothing enters the cache.
   */
  async unpack(
    blobPath: string,
    diffId: string,
    onProgress?: (current: number, total: number) => void,
  ): Promise<void> {
    if (this.has(diffId)) return;
    const staging = this.stage(diffId);
    let result: UnpackResult;
    try {
      result = await unpackLayer(blobPath, join(staging, "fs"), {
        whiteouts: "overlay",
        ...(onProgress ? { onProgress } : {}),
      });
    } catch (err) {
      this.discard(staging);
      throw err;
    }
    this.commit(staging, diffId, result);
  }

  /**
   * A fresh staging directory for one extraction of `diffId` (extract into its `fs/` with overlay
   * whiteouts, then `commit` or `discard` it). Concurrent pulls of the same layer are safe: each
   * extracts into its own staging directory and the first rename wins.
   */
  stage(diffId: string): string {
    const staging = `${join(this.dir, digestHex(diffId))}.staging-${process.pid}-${randomBytes(4).toString("hex")}`;
    mkdirSync(join(staging, "fs"), { recursive: true });
    return staging;
  }

  /** Moves a finished extraction into the cache if it hashed to `diffId`; the staging directory is gone after. */
  commit(staging: string, diffId: string, result: UnpackResult): void {
    try {
      if (result.diffId !== diffId) {
        throw new A3sError(
          "integrity",
          `layer content hashes to ${result.diffId}, but the image config says ${diffId}`,
          { hint: "the image is corrupt or was tampered with; nothing was stored" },
        );
      }
      if (this.has(diffId)) return; // another pull finished first; ours is discarded below
      const info: LayerInfo = {
        diffId,
        size: result.bytes,
        entries: result.entries,
        whiteouts: result.whiteoutPaths,
        unpackedAt: new Date().toISOString(),
      };
      writeFileAtomic(join(staging, INFO), `${JSON.stringify(info)}\n`);
      const final = join(this.dir, digestHex(diffId));
      if (existsSync(final)) rmSync(final, { recursive: true, force: true }); // a torn leftover
      renameSync(staging, final);
    } finally {
      this.discard(staging);
    }
  }

  discard(staging: string): void {
    rmSync(staging, { recursive: true, force: true });
  }

  remove(diffId: string): void {
    rmSync(join(this.dir, digestHex(diffId)), { recursive: true, force: true });
  }

  /** Diff IDs of complete layers, and staging leftovers of crashed pulls (safe to delete when old). */
  list(): { complete: string[]; stale: string[] } {
    if (!existsSync(this.dir)) return { complete: [], stale: [] };
    const complete: string[] = [];
    const stale: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (/^[a-f0-9]{64}$/.test(name) && existsSync(join(this.dir, name, INFO)))
        complete.push(`sha256:${name}`);
      else if (Date.now() - statSync(join(this.dir, name)).mtimeMs > 3_600_000)
        stale.push(join(this.dir, name));
    }
    return { complete, stale };
  }
}
