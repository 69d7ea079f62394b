/**
 * `docker load`: every image of an OCI image layout or Docker archive. The archive is unpacked into
 * a scratch directory by the hostile-input unpacker, every path a manifest names must stay inside it,
 * every blob is verified against its digest and every layer against its diff ID, and images are
 * recorded only when all of that held.
 */
import { mkdirSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../../core/errors.ts";
import type { BoxContext } from "../../context.ts";
import type { LayerRecord, NewImage } from "../images.ts";
import { hostPlatform } from "../manifest.ts";
import { familiarReference, type ImageReference } from "../reference.ts";
import { unpackLayer } from "../unpack.ts";
import { ArchiveDir } from "./archive-dir.ts";
import { interrupted } from "./errors.ts";
import { type ArchiveInput, existing, scratch, sniff, spool } from "./files.ts";
import { type Candidate, readArchive } from "./formats.ts";
import { layerType, ociManifest } from "./oci-manifest.ts";
import { Added, record, storeBlob, unpackInto } from "./store.ts";

export interface LoadedImage {
  id: string;
  /** Familiar name (alpine:latest); absent for an untagged image. */
  reference?: string;
}

export interface LoadOptions {
  signal?: AbortSignal;
}

/** Loads every image of an OCI layout or Docker archive (a path, or a stream such as stdin). */
export async function loadImages(
  box: BoxContext,
  input: ArchiveInput,
  options: LoadOptions = {},
): Promise<LoadedImage[]> {
  const work = scratch(box, "load-");
  try {
    const archive =
      typeof input === "string"
        ? existing(input)
        : await spool(input, join(work, "archive.tar"), options.signal);
    const root = join(work, "archive");
    mkdirSync(root);
    await extract(archive, root, options.signal);
    const dir = new ArchiveDir(realpathSync(root));
    const candidates = readArchive(dir);
    return await ingest(box, candidates, options.signal);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function extract(archive: string, root: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await unpackLayer(archive, root, {
      whiteouts: "apply",
      preserveOwnership: false,
      allowDevices: false,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (err instanceof A3sError && err.code === "integrity") {
      // The unpacker speaks of layers; here the tar is the archive itself.
      const detail = err.message
        .replace(/^layer is /, "it is ")
        .replace(/^layer entry/, "entry")
        .replace("the layer root", "the archive");
      throw new A3sError("integrity", `not a valid image archive: ${detail}`, {
        cause: err,
        hint: "the archive is damaged or unsafe; nothing was loaded",
      });
    }
    throw err;
  }
}

async function ingest(
  box: BoxContext,
  candidates: Candidate[],
  signal: AbortSignal | undefined,
): Promise<LoadedImage[]> {
  const added = new Added(box);
  try {
    const images: Array<{ image: NewImage; tags: ImageReference[] }> = [];
    for (const candidate of candidates) {
      if (!box.blobs.has(candidate.id)) {
        box.blobs.putBytes(candidate.id, candidate.configBytes);
        added.blobs.push(candidate.id);
      }
      const layers: LayerRecord[] = [];
      for (const layer of candidate.layers) {
        if (signal?.aborted) throw interrupted();
        const digest = await storeBlob(box, layer.file, layer.size, layer.digest, added);
        await unpackInto(box, digest, layer.diffId, added);
        const mediaType = layer.mediaType ?? layerType(sniff(layer.file));
        layers.push({ digest, diffId: layer.diffId, size: layer.size, mediaType });
      }
      images.push({ image: newImage(box, candidate, layers), tags: candidate.tags });
    }
    box.db.transaction(() => {
      for (const { image, tags } of images) record(box, image, tags);
    })();
    return images.flatMap(({ image, tags }) =>
      tags.length === 0
        ? [{ id: image.id }]
        : tags.map((tag) => ({ id: image.id, reference: familiarReference(tag) })),
    );
  } catch (err) {
    added.rollback();
    throw err;
  }
}

function newImage(box: BoxContext, candidate: Candidate, layers: LayerRecord[]): NewImage {
  const { config } = candidate;
  const host = hostPlatform();
  const manifest =
    candidate.manifest ?? ociManifest({ digest: candidate.id, size: candidate.configBytes.length }, layers);
  // A pulled image keeps the manifest it was pulled with.
  const known = box.images.get(candidate.id);
  return {
    id: candidate.id,
    manifestDigest: known?.manifestDigest ?? manifest.digest,
    manifestMediaType: known?.manifestMediaType ?? manifest.mediaType,
    platform: {
      os: config.os ?? host.os,
      architecture: config.architecture ?? host.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    },
    size: candidate.configBytes.length + layers.reduce((sum, layer) => sum + layer.size, 0),
    created: config.created,
    config,
    layers,
  };
}
