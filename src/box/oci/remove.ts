/**
 * Removing images as `docker rmi` does: a tag is untagged; an image left without tags is deleted
 * together with the blobs and unpacked layers no other image shares.
 */
import { A3sError } from "../../core/errors.ts";
import type { BoxContext } from "../context.ts";
import type { ImageRecord } from "./images.ts";
import { familiarReference, parseReference, tagName } from "./reference.ts";

export interface RemovalEvent {
  Untagged?: string;
  Deleted?: string;
}

export interface RemoveOptions {
  force?: boolean;
  /** Images in use by boxes cannot be removed without force; supplied by the box runtime. */
  inUse?: (imageId: string) => string[];
}

export function findImage(box: BoxContext, text: string): ImageRecord {
  const image = box.images.resolve(text);
  if (!image) throw new A3sError("not_found", `No such image: ${text}`);
  return image;
}

export function removeImage(box: BoxContext, text: string, options: RemoveOptions = {}): RemovalEvent[] {
  const image = findImage(box, text);
  const users = options.inUse?.(image.id) ?? [];
  if (users.length > 0 && !options.force) {
    throw new A3sError("conflict", `unable to remove ${text}: image is in use by box ${users.join(", ")}`, {
      hint: "remove the box first, or pass -f",
    });
  }
  const events: RemovalEvent[] = [];
  const byReference = isReference(text, image);
  if (byReference) {
    const reference = tagName(parseReference(text)) ?? "";
    if (image.tags.includes(reference)) {
      const last = box.images.untag(reference, image.id);
      events.push({ Untagged: familiarReference(parseReference(reference)) });
      if (!last) return events;
    }
  } else if (image.tags.length > 1 && !options.force) {
    throw new A3sError(
      "conflict",
      `unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
      { hint: "remove the tags one by one, or pass -f" },
    );
  } else {
    for (const tag of image.tags) events.push({ Untagged: familiarReference(parseReference(tag)) });
  }
  for (const digest of image.repoDigests)
    events.push({ Untagged: familiarReference(parseReference(digest)) });
  deleteImage(box, image);
  events.push({ Deleted: image.id });
  return events;
}

function isReference(text: string, image: ImageRecord): boolean {
  const hex = text.replace(/^sha256:/, "");
  return !(/^[a-f0-9]{4,64}$/.test(hex) && image.id.startsWith(`sha256:${hex}`));
}

/** Deletes the record, then whatever blobs and layers no remaining image references. */
export function deleteImage(box: BoxContext, image: ImageRecord): void {
  box.images.delete(image.id);
  const keepBlobs = box.images.referencedBlobs();
  const keepLayers = box.images.referencedDiffIds();
  for (const digest of [image.id, image.manifestDigest, ...image.layers.map((l) => l.digest)]) {
    if (!keepBlobs.has(digest)) box.blobs.remove(digest);
  }
  for (const layer of image.layers) {
    if (!keepLayers.has(layer.diffId)) box.layers.remove(layer.diffId);
  }
}

/** `image prune`: dangling (untagged) images, or with `all` every image no box uses. */
export function pruneImages(
  box: BoxContext,
  all: boolean,
  inUse: (id: string) => string[] = () => [],
): {
  deleted: RemovalEvent[];
  reclaimed: number;
} {
  const deleted: RemovalEvent[] = [];
  let reclaimed = 0;
  for (const image of box.images.list()) {
    if (inUse(image.id).length > 0) continue;
    if (!all && image.tags.length > 0) continue;
    for (const tag of image.tags) deleted.push({ Untagged: familiarReference(parseReference(tag)) });
    deleteImage(box, image);
    deleted.push({ Deleted: image.id });
    reclaimed += image.size;
  }
  return { deleted, reclaimed };
}
