/**
 * `docker save`: one tar holding the chosen images as an OCI image layout and a Docker archive at
 * once, as Docker 25+ writes it — oci-layout, index.json, blobs/sha256/<hex> and manifest.json, with
 * the layers kept compressed as the registry served them.
 */
import { A3sError } from "../../../core/errors.ts";
import type { BoxContext } from "../../context.ts";
import { digestHex } from "../blobs.ts";
import type { ImageRecord } from "../images.ts";
import { MEDIA, parseManifest } from "../manifest.ts";
import { familiarReference, formatReference, parseReference, repositoryName } from "../reference.ts";
import { findImage } from "../remove.ts";
import { IMAGE_NAME, type ManifestBlob, ociManifest, REF_NAME } from "./oci-manifest.ts";
import { fileSink, streamSink } from "./sinks.ts";
import { TarWriter } from "./tar-writer.ts";

const encoder = new TextEncoder();

export interface SavedImage {
  id: string;
  /** Familiar names, as manifest.json lists them: alpine:latest. */
  tags: string[];
  manifestDigest: string;
}

export interface SaveOptions {
  signal?: AbortSignal;
}

interface Selection {
  image: ImageRecord;
  /** Full references: docker.io/library/alpine:latest. */
  tags: string[];
}

/** `name:tag` (or `name@digest`) rather than a bare name, which means every tag of the repository. */
function namesTag(text: string): boolean {
  const name = text.split("@")[0] ?? "";
  return text.includes("@") || name.indexOf(":", name.lastIndexOf("/") + 1) !== -1;
}

/**
 * What `docker save` would put in the archive: an image ID saves the image untagged, name:tag that
 * tag, a bare name every tag of the repository, name@digest the image untagged.
 */
function selectImages(box: BoxContext, refs: readonly string[]): Selection[] {
  const chosen = new Map<string, Selection>();
  const add = (image: ImageRecord, tag?: string) => {
    let entry = chosen.get(image.id);
    if (!entry) {
      entry = { image, tags: [] };
      chosen.set(image.id, entry);
    }
    if (tag && !entry.tags.includes(tag)) entry.tags.push(tag);
  };
  for (const text of refs) {
    const byId = box.images.resolve(text);
    const hex = text.replace(/^sha256:/, "");
    if (byId && /^[a-f0-9]{4,64}$/.test(hex) && byId.id.startsWith(`sha256:${hex}`)) {
      add(byId);
      continue;
    }
    const ref = parseReference(text);
    if (!namesTag(text)) {
      const prefix = `${repositoryName(ref)}:`;
      const tagged = box.images
        .list()
        .flatMap((image) => image.tags.filter((t) => t.startsWith(prefix)).map((t) => [image, t] as const));
      if (tagged.length > 0) {
        for (const [image, tag] of tagged) add(image, tag);
        continue;
      }
    }
    const image = findImage(box, text);
    add(image, ref.digest ? undefined : formatReference(ref));
  }
  return [...chosen.values()];
}

/**
 * Writes one tar holding the images as an OCI layout and a Docker archive. `output` is a path
 * (written to a temp file and renamed into place) or a stream, such as stdout, that is left open.
 */
export async function saveImages(
  box: BoxContext,
  refs: readonly string[],
  output: string | NodeJS.WritableStream,
  options: SaveOptions = {},
): Promise<{ images: SavedImage[] }> {
  if (refs.length === 0) throw new A3sError("usage", "name at least one image to save");
  const plans = selectImages(box, refs).map(({ image, tags }) => {
    for (const digest of [image.id, ...image.layers.map((l) => l.digest)]) {
      if (!box.blobs.has(digest)) {
        throw new A3sError("not_found", `image ${image.id.slice(7, 19)} is missing blob ${digest}`, {
          hint: "pull the image again",
        });
      }
    }
    return { image, tags, manifest: manifestOf(box, image) };
  });

  const sink = typeof output === "string" ? await fileSink(output) : streamSink(output);
  try {
    const tar = new TarWriter(sink, options.signal);
    await tar.file("oci-layout", json({ imageLayoutVersion: "1.0.0" }));
    await tar.dir("blobs/");
    await tar.dir("blobs/sha256/");
    const written = new Set<string>();
    const blobName = (digest: string) => `blobs/sha256/${digestHex(digest)}`;
    for (const { image, manifest } of plans) {
      if (!written.has(manifest.digest)) await tar.file(blobName(manifest.digest), manifest.bytes);
      if (!written.has(image.id)) await tar.file(blobName(image.id), box.blobs.read(image.id));
      written.add(manifest.digest).add(image.id);
      for (const layer of image.layers) {
        if (written.has(layer.digest)) continue;
        await tar.copy(blobName(layer.digest), box.blobs.path(layer.digest), box.blobs.size(layer.digest));
        written.add(layer.digest);
      }
    }
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: plans.flatMap(({ manifest, tags }) => {
        const descriptor = {
          mediaType: manifest.mediaType,
          digest: manifest.digest,
          size: manifest.bytes.length,
        };
        if (tags.length === 0) return [descriptor];
        return tags.map((tag) => ({
          ...descriptor,
          annotations: { [IMAGE_NAME]: tag, [REF_NAME]: parseReference(tag).tag ?? "latest" },
        }));
      }),
    };
    await tar.file("index.json", json(index));
    const dockerManifest = plans.map(({ image, tags }) => ({
      Config: blobName(image.id),
      RepoTags: tags.length > 0 ? tags.map((tag) => familiarReference(parseReference(tag))) : null,
      Layers: image.layers.map((layer) => blobName(layer.digest)),
    }));
    await tar.file("manifest.json", json(dockerManifest));
    await tar.end();
    await sink.close();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return {
    images: plans.map(({ image, tags, manifest }) => ({
      id: image.id,
      tags: tags.map((tag) => familiarReference(parseReference(tag))),
      manifestDigest: manifest.digest,
    })),
  };
}

function json(value: unknown): Uint8Array {
  return encoder.encode(`${JSON.stringify(value)}\n`);
}

/**
 * The stored manifest when it is an OCI one (pulls keep the registry's bytes, so the digest survives),
 * else an OCI manifest regenerated from the record: skopeo's OCI-layout reader does not accept
 * Docker schema2 manifests in index.json.
 */
function manifestOf(box: BoxContext, image: ImageRecord): ManifestBlob {
  if (image.manifestMediaType === MEDIA.ociManifest && box.blobs.has(image.manifestDigest)) {
    const bytes = box.blobs.read(image.manifestDigest);
    try {
      const parsed = parseManifest(bytes, image.manifestMediaType);
      if (parsed.kind === "manifest" && parsed.manifest.config.digest === image.id) {
        return { bytes, digest: image.manifestDigest, mediaType: image.manifestMediaType };
      }
    } catch {}
  }
  return ociManifest({ digest: image.id, size: box.blobs.size(image.id) }, image.layers);
}
