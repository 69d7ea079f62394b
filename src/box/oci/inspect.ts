/** `docker image inspect`'s JSON shape, filled from an image record. */
import type { ImageRecord } from "./images.ts";
import type { LayerCache } from "./layers.ts";
import { familiarReference, parseReference } from "./reference.ts";

/** Uncompressed size of the image's layers when they are unpacked (what `docker images` shows). */
export function unpackedSize(image: ImageRecord, layers: LayerCache): number {
  let total = 0;
  for (const layer of image.layers) {
    const info = layers.info(layer.diffId);
    if (info === undefined) return image.size;
    total += info.size;
  }
  return total;
}

export function inspectImage(image: ImageRecord, layers: LayerCache): Record<string, unknown> {
  const config = image.config.config ?? {};
  return {
    Id: image.id,
    RepoTags: image.tags.map((t) => familiarReference(parseReference(t))),
    RepoDigests: image.repoDigests.map((d) => familiarReference(parseReference(d))),
    Parent: "",
    Comment: image.config.history?.at(-1)?.comment ?? "",
    Created: image.created ?? "",
    Author: image.config.author ?? "",
    Config: {
      User: config.User ?? "",
      ExposedPorts: config.ExposedPorts ?? null,
      Env: config.Env ?? null,
      Cmd: config.Cmd ?? null,
      Volumes: config.Volumes ?? null,
      WorkingDir: config.WorkingDir ?? "",
      Entrypoint: config.Entrypoint ?? null,
      Labels: config.Labels ?? null,
      StopSignal: config.StopSignal ?? "",
    },
    Architecture: image.platform.architecture,
    ...(image.platform.variant ? { Variant: image.platform.variant } : {}),
    Os: image.platform.os,
    Size: unpackedSize(image, layers),
    RootFS: { Type: "layers", Layers: image.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: image.pulledAt },
    Descriptor: { mediaType: image.manifestMediaType, digest: image.manifestDigest },
    Layers: image.layers.map((l) => ({
      Digest: l.digest,
      DiffID: l.diffId,
      Size: l.size,
      MediaType: l.mediaType,
    })),
  };
}
