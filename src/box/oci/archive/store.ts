/**
 * Adds what a load or import brought to the stores: blobs verified against their digests, layers
 * unpacked, images recorded; and removes it all again when the load or import fails.
 */
import { createHash } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import { A3sError } from "../../../core/errors.ts";
import type { BoxContext } from "../../context.ts";
import type { NewImage } from "../images.ts";
import type { ImageReference } from "../reference.ts";
import { unsafe } from "./errors.ts";
import { READ_CHUNK } from "./files.ts";

/** What a load or import added to the stores, removed again when it fails. */
export class Added {
  readonly blobs: string[] = [];
  readonly layers: string[] = [];

  constructor(private readonly box: BoxContext) {}

  rollback(): void {
    const keepBlobs = this.box.images.referencedBlobs();
    const keepLayers = this.box.images.referencedDiffIds();
    for (const digest of this.blobs) if (!keepBlobs.has(digest)) this.box.blobs.remove(digest);
    for (const diffId of this.layers) if (!keepLayers.has(diffId)) this.box.layers.remove(diffId);
  }
}

/** Records the image with its tags only: a loaded or imported image has no registry repo digest. */
export function record(box: BoxContext, image: NewImage, tags: readonly ImageReference[]): void {
  box.images.save(image, undefined);
  for (const tag of tags) box.images.tag(image.id, tag);
}

/** Streams a file into the blob store, verified against `digest` (computed first when unknown). */
export async function storeBlob(
  box: BoxContext,
  file: string,
  size: number,
  known: string | undefined,
  added: Added,
): Promise<string> {
  const digest = known ?? (await hashFile(file));
  if (box.blobs.has(digest)) return digest;
  const writer = await box.blobs.writer(digest, size, 0);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK }))
      await writer.write(chunk as Buffer);
    await writer.commit();
  } catch (err) {
    await writer.close();
    rmSync(box.blobs.partialPath(digest), { force: true });
    if (err instanceof A3sError && err.code === "integrity") {
      throw unsafe(`blob ${digest} in the archive is corrupt: ${err.message.replace(/^blob \S+ /, "")}`);
    }
    throw err;
  }
  added.blobs.push(digest);
  return digest;
}

export async function unpackInto(
  box: BoxContext,
  digest: string,
  diffId: string,
  added: Added,
): Promise<void> {
  if (box.layers.has(diffId)) return;
  await box.layers.unpack(box.blobs.path(digest), diffId);
  added.layers.push(diffId);
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK }))
    hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}
