/** `docker import`: a one-layer image from a rootfs tarball, stored as it is. */
import { createHash } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import { join } from "node:path";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { A3sError } from "../../../core/errors.ts";
import type { BoxContext } from "../../context.ts";
import type { LayerRecord, NewImage } from "../images.ts";
import { hostPlatform, type ImageConfig } from "../manifest.ts";
import { familiarReference, type ImageReference, parseReference } from "../reference.ts";
import type { LayerCompression } from "../unpack.ts";
import { parseChanges } from "./changes.ts";
import { type ArchiveInput, existing, READ_CHUNK, scratch, sniff, spool } from "./files.ts";
import { layerType, ociManifest, sha256 } from "./oci-manifest.ts";
import { Added, record, storeBlob, unpackInto } from "./store.ts";

const encoder = new TextEncoder();

export interface ImportOptions {
  /** The history comment (docker import -m); default "Imported from <source>". */
  message?: string;
  /** Dockerfile instructions (docker import -c): CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL. */
  changes?: readonly string[];
  signal?: AbortSignal;
}

export interface ImportResult {
  id: string;
  /** Familiar name the image was tagged with. */
  reference?: string;
}

/** A one-layer image from a rootfs tarball (plain, gzip or zstd), stored as it is, like `docker import`. */
export async function importRootfs(
  box: BoxContext,
  input: ArchiveInput,
  reference?: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const ref = reference === undefined ? undefined : importReference(reference);
  const runtime = parseChanges(options.changes ?? []);
  const work = scratch(box, "import-");
  const added = new Added(box);
  try {
    const file =
      typeof input === "string"
        ? existing(input)
        : await spool(input, join(work, "rootfs.tar"), options.signal);
    const compression = sniff(file);
    const { digest, diffId, size } = await hashLayer(file, compression);
    await storeBlob(box, file, size, digest, added);
    await unpackInto(box, digest, diffId, added);

    const created = new Date().toISOString();
    const platform = hostPlatform();
    const source = typeof input === "string" ? input : "-";
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created,
      config: runtime,
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created, comment: options.message ?? `Imported from ${source}` }],
    };
    const configBytes = encoder.encode(JSON.stringify(config));
    const id = sha256(configBytes);
    if (!box.blobs.has(id)) {
      box.blobs.putBytes(id, configBytes);
      added.blobs.push(id);
    }
    const layers: LayerRecord[] = [{ digest, diffId, size, mediaType: layerType(compression) }];
    const manifest = ociManifest({ digest: id, size: configBytes.length }, layers);
    const image: NewImage = {
      id,
      manifestDigest: manifest.digest,
      manifestMediaType: manifest.mediaType,
      platform,
      size: configBytes.length + size,
      created,
      config,
      layers,
    };
    box.db.transaction(() => record(box, image, ref ? [ref] : []))();
    return { id, ...(ref ? { reference: familiarReference(ref) } : {}) };
  } catch (err) {
    added.rollback();
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function importReference(text: string): ImageReference {
  const ref = parseReference(text);
  if (ref.digest)
    throw new A3sError("usage", `'${text}': an imported image is tagged by name[:tag], not a digest`);
  return ref;
}

/** sha256 of the blob as stored and of the tar inside it (the diff ID), in one pass. */
async function hashLayer(
  file: string,
  compression: LayerCompression,
): Promise<{ digest: string; diffId: string; size: number }> {
  const raw = createHash("sha256");
  const tar = createHash("sha256");
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      raw.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tar.update(chunk);
      callback();
    },
  });
  const input = createReadStream(file, { highWaterMark: READ_CHUNK });
  try {
    if (compression === "none") await pipeline(input, count, sink);
    else await pipeline(input, count, compression === "gzip" ? createGunzip() : createZstdDecompress(), sink);
  } catch (err) {
    throw new A3sError(
      "integrity",
      `${file} is not a valid ${compression} stream: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { digest: `sha256:${raw.digest("hex")}`, diffId: `sha256:${tar.digest("hex")}`, size };
}
