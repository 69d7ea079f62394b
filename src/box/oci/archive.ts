/**
 * Image archives, as `docker save`, `docker load` and `docker import` know them.
 *
 * A saved archive is an OCI image layout and a Docker archive at once, as Docker 25+ writes it:
 * oci-layout, index.json, blobs/sha256/<hex> and manifest.json, with the layers kept compressed as
 * the registry served them. Loading reads either format (and the Docker 1.10–24 layout of
 * <id>/layer.tar directories): the archive is unpacked into a scratch directory by the hostile-input
 * unpacker, every path a manifest names must stay inside it, every blob is verified against its
 * digest and every layer against its diff ID, and images are recorded only when all of that held.
 * Import turns a rootfs tarball into a one-layer image.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  createReadStream,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
} from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import type { Header } from "tar";
import { z } from "zod";
import { A3sError, fromSystemError } from "../../core/errors.ts";
import type { BoxContext } from "../context.ts";
import { digestHex } from "./blobs.ts";
import type { ImageRecord, LayerRecord, NewImage } from "./images.ts";
import {
  type Descriptor,
  hostPlatform,
  type ImageConfig,
  type ImageManifest,
  MEDIA,
  parseImageConfig,
  parseManifest,
  selectPlatform,
} from "./manifest.ts";
import {
  familiarReference,
  formatReference,
  type ImageReference,
  parseReference,
  repositoryName,
} from "./reference.ts";
import { findImage } from "./remove.ts";
import { detectCompression, type LayerCompression, unpackLayer } from "./unpack.ts";

/** Annotations Docker 25+ and containerd put on index.json entries. */
const IMAGE_NAME = "io.containerd.image.name";
const REF_NAME = "org.opencontainers.image.ref.name";
/** Manifests, configs and index files larger than this are refused rather than read into memory. */
const MAX_DOCUMENT = 16 << 20;
const READ_CHUNK = 1 << 20;
const BLOCK = 512;
const EPOCH = new Date(0);
const encoder = new TextEncoder();

export type ArchiveInput = string | AsyncIterable<Uint8Array>;

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function interrupted(): A3sError {
  return new A3sError("interrupted", "interrupted; nothing was recorded");
}

function unsafe(message: string): A3sError {
  return new A3sError("integrity", message, { hint: "the archive is damaged or unsafe; nothing was loaded" });
}

// ── Manifests ────────────────────────────────────────────────────────────────────────────────────

const OCI_LAYER_TYPE: Record<string, string> = {
  [MEDIA.dockerLayerGzip]: MEDIA.ociLayerGzip,
  "application/vnd.docker.image.rootfs.diff.tar": MEDIA.ociLayer,
  [MEDIA.dockerForeignLayer]: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
};

function layerType(compression: LayerCompression): string {
  return compression === "gzip"
    ? MEDIA.ociLayerGzip
    : compression === "zstd"
      ? MEDIA.ociLayerZstd
      : MEDIA.ociLayer;
}

export interface ManifestBlob {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
}

/**
 * The OCI manifest of an image whose original manifest bytes are not kept: compact JSON in the field
 * order registries and BuildKit use, so an OCI original written the same way gets its digest back.
 */
export function ociManifest(
  config: { digest: string; size: number },
  layers: readonly LayerRecord[],
): ManifestBlob {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((layer) => ({
      mediaType: OCI_LAYER_TYPE[layer.mediaType] ?? layer.mediaType,
      digest: layer.digest,
      size: layer.size,
    })),
  };
  const bytes = encoder.encode(JSON.stringify(manifest));
  return { bytes, digest: sha256(bytes), mediaType: MEDIA.ociManifest };
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

// ── Save ─────────────────────────────────────────────────────────────────────────────────────────

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

interface Sink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

async function fileSink(path: string): Promise<Sink> {
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let handle: FileHandle;
  try {
    handle = await open(temp, "wx", 0o644);
  } catch (err) {
    throw fromSystemError(err, path);
  }
  let position = 0;
  return {
    async write(chunk) {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position);
        offset += bytesWritten;
        position += bytesWritten;
      }
    },
    async close() {
      await handle.sync();
      await handle.close();
      await rename(temp, target);
    },
    async abort() {
      await handle.close().catch(() => {});
      await rm(temp, { force: true });
    },
  };
}

/** Writes with backpressure; an error on the stream (EPIPE from `| head`) fails the next write. */
function streamSink(stream: NodeJS.WritableStream): Sink {
  let failure: unknown;
  const onError = (err: unknown) => {
    failure ??= err;
  };
  stream.on("error", onError);
  const check = () => {
    if (failure === undefined) return;
    if ((failure as NodeJS.ErrnoException).code === "EPIPE") {
      throw new A3sError("runtime", "the reader closed the pipe before the archive was complete", {
        cause: failure,
      });
    }
    throw fromSystemError(failure, "writing the archive");
  };
  const settled = (event: "drain" | "flushed") =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("error", done);
        resolve();
      };
      stream.once("error", done);
      if (event === "drain") stream.once("drain", done);
      else stream.write(new Uint8Array(0), done);
    });
  return {
    async write(chunk) {
      check();
      if (!stream.write(chunk)) await settled("drain");
      check();
    },
    async close() {
      check();
      await settled("flushed");
      stream.off("error", onError);
      check();
    },
    async abort() {
      stream.off("error", onError);
    },
  };
}

/** A ustar writer for the few, short, regular names an image archive holds; mtimes are the epoch. */
class TarWriter {
  constructor(
    private readonly sink: Sink,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async dir(path: string): Promise<void> {
    await this.sink.write(await header(path, "Directory", 0));
  }

  async file(path: string, bytes: Uint8Array): Promise<void> {
    await this.sink.write(await header(path, "File", bytes.length));
    await this.sink.write(bytes);
    await this.pad(bytes.length);
  }

  /** Streams a file of a known size; one that changed size meanwhile would corrupt the archive. */
  async copy(path: string, source: string, size: number): Promise<void> {
    await this.sink.write(await header(path, "File", size));
    let copied = 0;
    for await (const chunk of createReadStream(source, { highWaterMark: READ_CHUNK })) {
      if (this.signal?.aborted) throw interrupted();
      copied += (chunk as Buffer).length;
      if (copied > size) break;
      await this.sink.write(chunk as Buffer);
    }
    if (copied !== size) throw new A3sError("integrity", `${source} changed size while it was being saved`);
    await this.pad(size);
  }

  async end(): Promise<void> {
    await this.sink.write(new Uint8Array(BLOCK * 2));
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest > 0) await this.sink.write(new Uint8Array(BLOCK - rest));
  }
}

let HeaderClass: typeof Header | undefined;

/** A ustar header block; the tar package is loaded on first use, not at every a3s start. */
async function header(path: string, type: "File" | "Directory", size: number): Promise<Uint8Array> {
  HeaderClass ??= (await import("tar")).Header;
  const h = new HeaderClass({
    path,
    type,
    size,
    mode: type === "Directory" ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
    mtime: EPOCH,
  });
  if (h.encode() || !h.block) throw new A3sError("internal", `archive member name too long: ${path}`);
  return h.block;
}

// ── Load ─────────────────────────────────────────────────────────────────────────────────────────

export interface LoadedImage {
  id: string;
  /** Familiar name (alpine:latest); absent for an untagged image. */
  reference?: string;
}

export interface LoadOptions {
  signal?: AbortSignal;
}

interface Candidate {
  id: string;
  configBytes: Uint8Array;
  config: ImageConfig;
  /** The archive's own manifest (OCI layouts have one); Docker archives get one generated. */
  manifest?: { digest: string; mediaType: string };
  layers: Array<{ file: string; digest?: string; size: number; mediaType?: string; diffId: string }>;
  tags: ImageReference[];
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

function scratch(box: BoxContext, prefix: string): string {
  mkdirSync(box.paths.tmp, { recursive: true });
  return mkdtempSync(join(box.paths.tmp, prefix));
}

function existing(path: string): string {
  try {
    if (!statSync(path).isFile()) throw new A3sError("usage", `${path} is not a file`);
  } catch (err) {
    if (err instanceof A3sError) throw err;
    throw fromSystemError(err, path);
  }
  return path;
}

async function spool(
  input: AsyncIterable<Uint8Array>,
  path: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const handle = await open(path, "wx", 0o600);
  try {
    for await (const chunk of input) {
      if (signal?.aborted) throw interrupted();
      let offset = 0;
      while (offset < chunk.length)
        offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
    }
  } finally {
    await handle.close();
  }
  return path;
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

/** The extracted archive. Paths named by its manifests are untrusted: each must resolve inside it. */
class ArchiveDir {
  constructor(readonly root: string) {}

  has(rel: string): boolean {
    return lstatSync(join(this.root, rel), { throwIfNoEntry: false }) !== undefined;
  }

  /** The real path of a regular file the archive names, refusing anything that leaves the archive. */
  member(rel: unknown, what: string): string {
    if (typeof rel !== "string" || rel === "" || rel.includes("\0")) throw unsafe(`${what}: invalid path`);
    if (rel.startsWith("/") || rel.split("/").includes("..")) {
      throw unsafe(`${what} '${rel}' points outside the archive`);
    }
    let real: string;
    try {
      real = realpathSync(join(this.root, rel));
    } catch {
      throw new A3sError("integrity", `${what} '${rel}' is missing from the archive`, {
        hint: "the archive is incomplete; nothing was loaded",
      });
    }
    if (!real.startsWith(`${this.root}/`)) throw unsafe(`${what} '${rel}' points outside the archive`);
    if (!statSync(real).isFile()) throw unsafe(`${what} '${rel}' is not a regular file`);
    return real;
  }

  read(rel: string, what: string): Uint8Array {
    const path = this.member(rel, what);
    if (statSync(path).size > MAX_DOCUMENT)
      throw unsafe(`${what} '${rel}' is larger than ${MAX_DOCUMENT} bytes`);
    return readFileSync(path);
  }

  json(rel: string, what: string): unknown {
    try {
      return JSON.parse(new TextDecoder().decode(this.read(rel, what)));
    } catch (err) {
      if (err instanceof A3sError) throw err;
      throw unsafe(`${what} '${rel}' is not valid JSON`);
    }
  }

  blobPath(digest: string, what: string): string {
    return this.member(`blobs/sha256/${digestHex(digest)}`, what);
  }

  /** A small blob, checked against its descriptor's size and digest. */
  blob(descriptor: Descriptor, what: string): Uint8Array {
    const bytes = this.read(`blobs/sha256/${digestHex(descriptor.digest)}`, what);
    const actual = sha256(bytes);
    if (bytes.length !== descriptor.size || actual !== descriptor.digest) {
      throw unsafe(`${what} ${descriptor.digest} is corrupt: ${bytes.length} bytes hashing to ${actual}`);
    }
    return bytes;
  }
}

function readArchive(dir: ArchiveDir): Candidate[] {
  const oci = dir.has("index.json") ? readOciLayout(dir) : undefined;
  const docker = dir.has("manifest.json") ? readDockerArchive(dir) : undefined;
  if (!oci && !docker) {
    throw new A3sError("usage", "not an image archive: it has neither index.json nor manifest.json", {
      hint: "a3s box load reads archives made by docker save, a3s box save, skopeo and other OCI tools",
    });
  }
  // Docker 25+ writes both; the OCI side has the real manifests, manifest.json may add tags.
  const byId = new Map<string, Candidate>();
  for (const candidate of [...(oci ?? []), ...(docker ?? [])]) {
    const known = byId.get(candidate.id);
    if (!known) byId.set(candidate.id, candidate);
    else for (const tag of candidate.tags) addTag(known.tags, tag);
  }
  return [...byId.values()];
}

function addTag(tags: ImageReference[], tag: ImageReference): void {
  if (!tags.some((t) => formatReference(t) === formatReference(tag))) tags.push(tag);
}

/** A reference to tag an image with; references that name only a digest tag nothing. */
function tagReference(text: string, where: string): ImageReference | undefined {
  let ref: ImageReference;
  try {
    ref = parseReference(text);
  } catch (err) {
    throw unsafe(`${where} names an invalid image reference '${text}': ${(err as Error).message}`);
  }
  if (!ref.tag) return undefined;
  const { digest: _, ...tagged } = ref;
  return tagged;
}

function checkLayers(config: ImageConfig, count: number, what: string): string[] {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== count) {
    throw unsafe(`${what}: the config lists ${diffIds.length} layers but the manifest has ${count}`);
  }
  return diffIds;
}

function readOciLayout(dir: ArchiveDir): Candidate[] {
  const parsed = parseManifest(dir.read("index.json", "index.json"), "");
  if (parsed.kind !== "index") throw unsafe("index.json is not an image index");
  const candidates: Candidate[] = [];
  for (const entry of parsed.index.manifests) {
    const { manifest, descriptor } = ociManifestOf(dir, entry, 0);
    const configBytes = dir.blob(manifest.config, "image config");
    const config = parseImageConfig(configBytes);
    const diffIds = checkLayers(config, manifest.layers.length, `image ${descriptor.digest}`);
    const name = entry.annotations?.[IMAGE_NAME];
    const refName = entry.annotations?.[REF_NAME];
    // ref.name is usually a bare tag ("latest"), which names no repository; only a full name tags.
    const text = name ?? (refName && /[:/]/.test(refName) ? refName : undefined);
    const tag = text === undefined ? undefined : tagReference(text, "index.json");
    candidates.push({
      id: manifest.config.digest,
      configBytes,
      config,
      manifest: { digest: descriptor.digest, mediaType: descriptor.mediaType },
      layers: manifest.layers.map((layer, i) => ({
        file: dir.blobPath(layer.digest, "layer"),
        digest: layer.digest,
        size: layer.size,
        mediaType: layer.mediaType,
        diffId: diffIds[i] as string,
      })),
      tags: tag ? [tag] : [],
    });
  }
  return candidates;
}

/** An index entry's image manifest; a multi-platform entry resolves to this host's platform. */
function ociManifestOf(
  dir: ArchiveDir,
  descriptor: Descriptor,
  depth: number,
): { manifest: ImageManifest; descriptor: Descriptor } {
  const parsed = parseManifest(dir.blob(descriptor, "manifest"), descriptor.mediaType);
  if (parsed.kind === "manifest") return { manifest: parsed.manifest, descriptor };
  if (depth > 0) throw new A3sError("usage", "nested image indexes are not supported");
  return ociManifestOf(dir, selectPlatform(parsed.index, hostPlatform()), depth + 1);
}

const DockerManifestSchema = z.array(
  z.object({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);
const RepositoriesSchema = z.record(z.string(), z.record(z.string(), z.string()));

function readDockerArchive(dir: ArchiveDir): Candidate[] {
  const parsed = DockerManifestSchema.safeParse(dir.json("manifest.json", "manifest.json"));
  if (!parsed.success) throw unsafe(`manifest.json is malformed: ${parsed.error.issues[0]?.message}`);
  const repositories = dir.has("repositories")
    ? RepositoriesSchema.safeParse(dir.json("repositories", "repositories")).data
    : undefined;
  return parsed.data.map((entry) => {
    const configBytes = dir.read(entry.Config, "image config");
    const id = sha256(configBytes);
    const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(entry.Config)?.[1];
    if (named && `sha256:${named}` !== id) {
      throw unsafe(`image config '${entry.Config}' is corrupt: its content hashes to ${id}`);
    }
    const config = parseImageConfig(configBytes);
    const diffIds = checkLayers(config, entry.Layers.length, `image ${id}`);
    const layers = entry.Layers.map((path, i) => {
      const file = dir.member(path, "layer");
      // Docker 25+ names layers by digest; older archives (<id>/layer.tar, <hex>.tar) are hashed.
      const hex = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path)?.[1];
      return {
        file,
        size: statSync(file).size,
        diffId: diffIds[i] as string,
        ...(hex ? { digest: `sha256:${hex}` } : {}),
      };
    });
    const tags: ImageReference[] = [];
    for (const text of entry.RepoTags ?? []) {
      const tag = tagReference(text, "manifest.json");
      if (tag) addTag(tags, tag);
    }
    if (tags.length === 0 && repositories) {
      // Older archives tag through `repositories`: {"alpine": {"latest": "<top layer id>"}}.
      const last = entry.Layers.at(-1) ?? "";
      const top = last.endsWith("/layer.tar")
        ? last.slice(0, -"/layer.tar".length)
        : basename(last).replace(/\.tar$/, "");
      for (const [repository, byTag] of Object.entries(repositories)) {
        for (const [name, layerId] of Object.entries(byTag)) {
          const tag = layerId === top ? tagReference(`${repository}:${name}`, "repositories") : undefined;
          if (tag) addTag(tags, tag);
        }
      }
    }
    return { id, configBytes, config, layers, tags };
  });
}

/** What a load or import added to the stores, removed again when it fails. */
class Added {
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

/** Records the image with its tags only: a loaded or imported image has no registry repo digest. */
function record(box: BoxContext, image: NewImage, tags: readonly ImageReference[]): void {
  box.images.save(image, undefined);
  for (const tag of tags) box.images.tag(image.id, tag);
}

/** The layer compression of a file; xz and bzip2 (which Docker also reads) are refused clearly. */
function sniff(file: string): LayerCompression {
  const head = new Uint8Array(6);
  const fd = openSync(file, "r");
  let length: number;
  try {
    length = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = new TextDecoder("latin1").decode(head.subarray(0, length));
  const other = text === "\xfd7zXZ\0" ? "xz" : text.startsWith("BZh") ? "bzip2" : undefined;
  if (other) {
    throw new A3sError("usage", `${file} is ${other}-compressed; a3s reads plain, gzip and zstd tarballs`, {
      hint: `decompress it first: ${other === "xz" ? "xz" : "bzip2"} -dc ${file} | a3s box import - …`,
    });
  }
  return detectCompression(head.subarray(0, length));
}

/** Streams a file into the blob store, verified against `digest` (computed first when unknown). */
async function storeBlob(
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

async function unpackInto(box: BoxContext, digest: string, diffId: string, added: Added): Promise<void> {
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

// ── Import ───────────────────────────────────────────────────────────────────────────────────────

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

const CHANGES = ["CMD", "ENTRYPOINT", "ENV", "WORKDIR", "USER", "LABEL"] as const;

type RuntimeConfig = NonNullable<ImageConfig["config"]>;

/**
 * Dockerfile instructions as `docker import --change` takes them, for the runtime settings an
 * imported image can carry: CMD and ENTRYPOINT (exec ["a","b"] or shell form), ENV and LABEL
 * (key=value pairs with shell quoting, or the legacy `key value`), WORKDIR and USER.
 */
export function parseChanges(changes: readonly string[]): RuntimeConfig {
  const config: RuntimeConfig = {};
  const env = new Map<string, string>();
  const labels: Record<string, string> = {};
  for (const change of changes) {
    const match = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(change);
    const keyword = match?.[1]?.toUpperCase() as (typeof CHANGES)[number] | undefined;
    const rest = (match?.[2] ?? "").trim();
    if (!keyword || !CHANGES.includes(keyword)) {
      throw new A3sError("usage", `unsupported --change '${change}'`, {
        hint: `supported instructions: ${CHANGES.join(", ")}`,
      });
    }
    if (rest === "") throw new A3sError("usage", `--change '${change}': ${keyword} needs an argument`);
    switch (keyword) {
      case "CMD":
        config.Cmd = commandForm(rest);
        break;
      case "ENTRYPOINT":
        config.Entrypoint = commandForm(rest);
        break;
      case "WORKDIR":
        config.WorkingDir = rest;
        break;
      case "USER":
        config.User = rest;
        break;
      case "ENV":
        for (const [key, value] of keyValues(rest, keyword)) env.set(key, value);
        break;
      case "LABEL":
        for (const [key, value] of keyValues(rest, keyword)) labels[key] = value;
        break;
    }
  }
  if (env.size > 0) config.Env = [...env].map(([key, value]) => `${key}=${value}`);
  if (Object.keys(labels).length > 0) config.Labels = labels;
  return config;
}

/** Exec form when it is a JSON array of strings, shell form otherwise (as Docker falls back). */
function commandForm(text: string): string[] {
  if (text.startsWith("[")) {
    try {
      const value: unknown = JSON.parse(text);
      if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
    } catch {}
  }
  return ["/bin/sh", "-c", text];
}

function keyValues(text: string, keyword: string): Array<[string, string]> {
  const words = shellWords(text);
  const [first = ""] = words;
  if (!first.includes("=")) {
    // Legacy form: ENV key the rest of the line.
    const value = text.slice(text.search(/\s/) + 1).trim();
    if (words.length < 2) throw new A3sError("usage", `${keyword} '${text}': expected key=value`);
    return [[first, shellWords(value).join(" ")]];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new A3sError("usage", `${keyword} '${text}': expected key=value, got '${word}'`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** Splits on unquoted whitespace; "double" and 'single' quotes group, backslash escapes outside single quotes. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let started = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (char === "\\" && i + 1 < text.length) {
      word += text[++i];
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(word);
      word = "";
      started = false;
    } else {
      word += char;
      started = true;
    }
  }
  if (quote) throw new A3sError("usage", `unterminated quote in '${text}'`);
  if (started) words.push(word);
  return words;
}
