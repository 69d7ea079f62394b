/**
 * `a3s box pull`: resolve a reference to a platform manifest (through mirrors when configured),
 * download missing layers in parallel with resume, verify every byte, unpack each layer once into
 * the layer cache, and record the image. Progress is reported as Docker's JSON message stream.
 */
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import type { BoxContext } from "../context.ts";
import { credentialSources, findCredentials } from "./credentials.ts";
import type { ImageRecord, LayerRecord } from "./images.ts";
import {
  type Descriptor,
  formatPlatform,
  hostPlatform,
  type ImageConfig,
  type ImageManifest,
  type Platform,
  parseImageConfig,
  parseManifest,
  selectPlatform,
} from "./manifest.ts";
import {
  DEFAULT_REGISTRY,
  familiarReference,
  familiarRepository,
  formatReference,
  type ImageReference,
  parseReference,
  tagName,
} from "./reference.ts";
import { type FetchedManifest, RegistryClient } from "./registry.ts";
import { defaultWorkerCount, UnpackWorkers, type WorkerSource } from "./unpack/workers.ts";

const log = logger("box.pull");

/** One message of Docker's pull stream: `{"status":"Downloading","id":"a1b2c3d4e5f6","progressDetail":{…}}`. */
export interface PullEvent {
  status: string;
  id?: string;
  progressDetail?: { current: number; total?: number };
}

export interface PullOptions {
  reference: string;
  platform?: Platform;
  /** Allow plain HTTP for this registry (like --insecure-registry). */
  insecure?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: PullEvent) => void;
}

export interface PullResult {
  reference: string;
  /** Digest the reference resolved to (an index digest for multi-platform images). */
  digest: string;
  image: ImageRecord;
  platform: Platform;
  upToDate: boolean;
  downloadedBytes: number;
}

interface Endpoint {
  registry: string;
  repository: string;
  insecure: boolean;
}

const DOWNLOAD_ATTEMPTS = 3;

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/** Mirrors apply to Docker Hub, as in Docker; each is tried in order, then the registry itself. */
export function endpointsFor(
  ref: ImageReference,
  box: Pick<BoxContext, "config">,
  insecure = false,
): Endpoint[] {
  const insecureList = box.config.box.insecureRegistries;
  const upstream: Endpoint = {
    registry: ref.registry,
    repository: ref.repository,
    insecure: insecure || insecureList.includes(ref.registry),
  };
  if (ref.registry !== DEFAULT_REGISTRY) return [upstream];
  const mirrors = box.config.box.registryMirrors.map((mirror): Endpoint => {
    const plain = mirror.startsWith("http://");
    const host = mirror.replace(/^https?:\/\//, "").replace(/\/+$/, "");
    return { registry: host, repository: ref.repository, insecure: plain || insecureList.includes(host) };
  });
  return [...mirrors, upstream];
}

export async function pullImage(box: BoxContext, options: PullOptions): Promise<PullResult> {
  const ref = parseReference(options.reference);
  const workers = new UnpackWorkers();
  // An image this machine lacks will be unpacked: a worker boots (a VM, the tar parser) on another
  // core while the manifest is fetched.
  const local = box.images.resolve(formatReference(ref));
  const complete = local?.layers.every((l) => box.blobs.has(l.digest) && box.layers.has(l.diffId));
  if (!complete) workers.prestart(1);
  try {
    return await pullWith(box, options, ref, workers);
  } finally {
    await workers.close();
  }
}

async function pullWith(
  box: BoxContext,
  options: PullOptions,
  ref: ImageReference,
  workers: UnpackWorkers,
): Promise<PullResult> {
  const platform = options.platform ?? hostPlatform();
  const emit = options.onEvent ?? (() => {});
  const { client, endpoint, top } = await resolveManifest(box, ref, options.insecure ?? false);
  emit({ status: `Pulling from ${familiarRepository(ref)}`, id: ref.digest ?? ref.tag ?? "latest" });

  const { manifest, fetched } = await platformManifest(client, endpoint, top, platform);
  const { digest: manifestDigest, mediaType: manifestMediaType } = fetched;
  // Kept verbatim so `save` reproduces the registry's manifest digest.
  box.blobs.putBytes(manifestDigest, fetched.bytes);
  const downloads = manifest.layers.filter((layer) => !box.blobs.has(layer.digest)).length;
  if (downloads > 0) workers.resize(defaultWorkerCount(true));
  // Unpack workers boot (a VM each, the tar parser) while the config is fetched.
  workers.prestart(downloads);
  const { config, layers, upToDate, downloadedBytes } = await pullLayers(box, {
    client,
    endpoint,
    manifest,
    ref,
    workers,
    emit,
    platform,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  box.images.save(
    {
      id: manifest.config.digest,
      manifestDigest,
      manifestMediaType,
      platform,
      size: manifest.config.size + layers.reduce((sum, l) => sum + l.size, 0),
      created: config.created,
      config,
      layers,
    },
    ref,
    top.digest,
  );
  const image = box.images.get(manifest.config.digest) as ImageRecord;
  emit({ status: `Digest: ${top.digest}` });
  const name = familiarReference(ref);
  emit({
    status: upToDate
      ? `Status: Image is up to date for ${name}`
      : `Status: Downloaded newer image for ${name}`,
  });
  return { reference: formatReference(ref), digest: top.digest, image, platform, upToDate, downloadedBytes };
}

interface LayerPull {
  client: RegistryClient;
  endpoint: Endpoint;
  manifest: ImageManifest;
  ref: ImageReference;
  platform: Platform;
  workers: UnpackWorkers;
  emit: (event: PullEvent) => void;
  signal?: AbortSignal;
}

/**
 * Fetches the config and whatever layers the store lacks (downloaded and unpacked). Downloads start
 * with the config's request, as Docker's and skopeo's do: a download needs nothing from the config,
 * only unpacking needs the diff ID it names.
 */
async function pullLayers(
  box: BoxContext,
  { client, endpoint, manifest, ref, platform, workers, emit, signal }: LayerPull,
): Promise<{ config: ImageConfig; layers: LayerRecord[]; upToDate: boolean; downloadedBytes: number }> {
  const described = fetchConfig(box, client, endpoint, manifest.config).then((bytes) =>
    describeLayers(manifest, parseImageConfig(bytes), platform),
  );
  described.catch(() => {}); // awaited below, and by every download before it unpacks
  const { downloaded, fetched } = await fetchLayers(box, client, endpoint.repository, manifest.layers, {
    records: described.then(({ layers }) => layers),
    workers,
    emit,
    signal,
  });
  const { config, layers } = await described;
  const tag = tagName(ref);
  const upToDate =
    tag !== undefined && fetched === 0 && box.images.get(manifest.config.digest)?.tags.includes(tag) === true;
  return { config, layers, upToDate, downloadedBytes: downloaded };
}

/** The config checked against the platform and the manifest, and each layer with its diff ID. */
function describeLayers(
  manifest: ImageManifest,
  config: ImageConfig,
  platform: Platform,
): { config: ImageConfig; layers: LayerRecord[] } {
  checkPlatform(config, platform);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new A3sError(
      "integrity",
      `image config lists ${diffIds.length} layers but the manifest has ${manifest.layers.length}`,
    );
  }
  const layers = manifest.layers.map((layer, i) => ({
    digest: layer.digest,
    diffId: diffIds[i] as string,
    size: layer.size,
    mediaType: layer.mediaType,
  }));
  return { config, layers };
}

async function resolveManifest(
  box: BoxContext,
  ref: ImageReference,
  insecure: boolean,
): Promise<{ client: RegistryClient; endpoint: Endpoint; top: FetchedManifest }> {
  const endpoints = endpointsFor(ref, box, insecure);
  const sources = credentialSources(box.paths.auth, box.env);
  let lastError: unknown;
  for (const endpoint of endpoints) {
    const credentials = findCredentials(endpoint.registry, sources);
    const client = new RegistryClient({
      registry: endpoint.registry,
      insecure: endpoint.insecure,
      timeoutMs: box.config.http.timeoutMs,
      ...(credentials ? { credentials } : {}),
    });
    try {
      const top = await client.getManifest(endpoint.repository, ref.digest ?? ref.tag ?? "latest");
      if (endpoint.registry !== ref.registry)
        log.info(`pulling ${formatReference(ref)} through mirror ${endpoint.registry}`);
      return { client, endpoint, top };
    } catch (err) {
      lastError = err;
      const isLast = endpoint === endpoints[endpoints.length - 1];
      if (isLast) break;
      log.warn(`mirror ${endpoint.registry} failed, trying the next endpoint`, { error: err });
    }
  }
  throw lastError;
}

/** The image manifest for the platform: the top-level document itself, or the index entry chosen. */
async function platformManifest(
  client: RegistryClient,
  endpoint: Endpoint,
  top: FetchedManifest,
  platform: Platform,
): Promise<{ manifest: ImageManifest; fetched: FetchedManifest }> {
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === "manifest") return { manifest: parsed.manifest, fetched: top };
  const chosen = selectPlatform(parsed.index, platform);
  const fetched = await client.getManifest(endpoint.repository, chosen.digest);
  const inner = parseManifest(fetched.bytes, fetched.mediaType);
  if (inner.kind !== "manifest") throw new A3sError("usage", "nested image indexes are not supported");
  return { manifest: inner.manifest, fetched };
}

async function fetchConfig(
  box: BoxContext,
  client: RegistryClient,
  endpoint: Endpoint,
  descriptor: Descriptor,
): Promise<Uint8Array> {
  if (box.blobs.has(descriptor.digest)) return box.blobs.read(descriptor.digest);
  const response = await client.getBlob(endpoint.repository, descriptor.digest);
  const bytes = new Uint8Array(await response.body.arrayBuffer());
  box.blobs.putBytes(descriptor.digest, bytes);
  return bytes;
}

/** A single-platform image must still be for the platform asked for (Docker refuses a mismatch too). */
function checkPlatform(config: ImageConfig, wanted: Platform): void {
  if (
    config.os &&
    config.architecture &&
    (config.os !== wanted.os || config.architecture !== wanted.architecture)
  ) {
    throw new A3sError(
      "not_found",
      `image is for ${formatPlatform({ os: config.os, architecture: config.architecture })}, not ${formatPlatform(wanted)}`,
      { hint: `pass --platform ${config.os}/${config.architecture} to pull it anyway` },
    );
  }
}

interface LayerFetch {
  /** Every layer with its diff ID, once the config is in. */
  records: Promise<LayerRecord[]>;
  workers: UnpackWorkers;
  emit: (event: PullEvent) => void;
  signal: AbortSignal | undefined;
}

/**
 * Downloads the blobs the store lacks, from the start, and unpacks every layer the cache lacks.
 * Resolves with the bytes received and how many layers needed either.
 */
async function fetchLayers(
  box: BoxContext,
  client: RegistryClient,
  repository: string,
  descriptors: Descriptor[],
  { records, workers, emit, signal }: LayerFetch,
): Promise<{ downloaded: number; fetched: number }> {
  const missing = uniqueByDigest(descriptors).filter((d) => !box.blobs.has(d.digest));
  for (const layer of missing) emit({ status: "Pulling fs layer", id: shortId(layer.digest) });
  for (const layer of missing) emit({ status: "Waiting", id: shortId(layer.digest) });
  // Workers unpack each layer while it downloads; a finished download frees its slot at once.
  const unpacks: Promise<void>[] = [];
  const keep = (unpack: Promise<void>) => {
    unpack.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    unpacks.push(unpack);
  };
  let downloaded = 0;
  const download = async (descriptor: Descriptor) => {
    const record = records.then(
      (layers) => layers.find((l) => l.digest === descriptor.digest) as LayerRecord,
    );
    record.catch(() => {}); // awaited once the blob's response is in; the config's error is reported once
    const result = await downloadWithRetry(box, client, repository, descriptor, record, {
      workers,
      emit,
      signal,
    });
    downloaded += result.bytes;
    keep(result.unpacked);
  };
  let failure: unknown;
  const downloads = runBounded(missing, box.config.box.maxConcurrentDownloads, download).catch(
    (err: unknown) => {
      failure ??= err;
    },
  );
  // The layers whose blobs are here already: the config tells whether the cache has them.
  let extracted = 0;
  const extractions = records.then(
    (layers) => {
      const downloading = new Set(missing.map((d) => d.digest));
      const present = uniqueByDigest(layers).filter((l) => !downloading.has(l.digest));
      const absent = present.filter((l) => !box.layers.has(l.diffId));
      // An image with every layer in place shows none of them, as Docker's "up to date" pull does.
      if (missing.length === 0 && absent.length === 0) return;
      for (const layer of present) {
        if (!absent.includes(layer)) emit({ status: "Already exists", id: shortId(layer.digest) });
      }
      for (const layer of absent) {
        emit({ status: "Pulling fs layer", id: shortId(layer.digest) });
        const extraction = extract(box, workers, layer, { path: box.blobs.path(layer.digest) }, emit);
        void extraction.end();
        keep(extraction.done);
        extracted++;
      }
    },
    (err: unknown) => {
      failure ??= err;
    },
  );
  await Promise.all([downloads, extractions]);
  // Layers that unpack fine are kept for the next pull even when another one fails this one.
  for (const outcome of await Promise.allSettled(unpacks)) {
    if (outcome.status === "rejected") failure ??= outcome.reason;
  }
  if (failure !== undefined) throw failure;
  return { downloaded, fetched: missing.length + extracted };
}

/** A manifest may list one blob more than once; it is fetched and unpacked once. */
function uniqueByDigest<T extends { digest: string }>(layers: readonly T[]): T[] {
  return [...new Map(layers.map((layer) => [layer.digest, layer])).values()];
}

/** Bytes of a download between two notes to the worker following it. */
const GROW_STEP = 1 << 20;

interface Extraction {
  grow(available: number): void;
  /**
   * All of the blob is on disk: the worker reads it to the end. Resolves with the digest of what it
   * read, or undefined if the unpack stopped first.
   */
  end(): Promise<string | undefined>;
  abort(): Promise<void>;
  /** Settles when the layer is in the cache (or failed to get there). */
  done: Promise<void>;
}

/**
 * Unpacks a layer into the layer cache on a worker, from its blob or from its download as it grows.
 * The layer enters the cache once it is unpacked and `verified` (its blob in the store) has resolved.
 */
function extract(
  box: BoxContext,
  workers: UnpackWorkers,
  layer: LayerRecord,
  source: WorkerSource,
  emit: (event: PullEvent) => void,
  verified: Promise<void> = Promise.resolve(),
): Extraction {
  const id = shortId(layer.digest);
  const staging = box.layers.stage(layer.diffId);
  let complete = false;
  let notified = "fd" in source ? source.available : 0;
  const job = workers.unpack(source, join(staging, "fs"), {
    whiteouts: "overlay",
    // While the download runs its own progress is shown; after it, what is left to extract.
    onProgress: (current, total) => {
      if (complete) emit({ status: "Extracting", id, progressDetail: { current, total } });
    },
  });
  const discard = (err: unknown) => {
    box.layers.discard(staging);
    throw err;
  };
  // Only after the worker is done with the staging directory is it committed or removed.
  const done = job.done.then(async (result) => {
    await verified.catch(discard);
    box.layers.commit(staging, layer.diffId, result);
    emit({ status: "Pull complete", id });
  }, discard);
  return {
    grow: (available) => {
      if (available - notified < GROW_STEP) return;
      notified = available;
      job.grow(available);
    },
    end: () => {
      complete = true;
      job.end();
      return job.digest;
    },
    abort: async () => {
      job.abort();
      await done.catch(() => {});
    },
    done,
  };
}

async function downloadWithRetry(
  box: BoxContext,
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  record: Promise<LayerRecord>,
  pipes: Omit<LayerFetch, "records">,
): Promise<Downloaded> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadLayer(box, client, repository, descriptor, record, pipes);
    } catch (err) {
      const retryable = err instanceof A3sError && err.code === "network" && !pipes.signal?.aborted;
      if (!retryable || attempt >= DOWNLOAD_ATTEMPTS) throw err;
      pipes.emit({
        status: `Retrying in ${attempt} second${attempt > 1 ? "s" : ""}`,
        id: shortId(descriptor.digest),
      });
      await Bun.sleep(attempt * 1000);
    }
  }
}

interface Downloaded {
  /** Bytes received (less than the layer's size when a partial download was resumed). */
  bytes: number;
  /** Settles when the blob is verified and the layer unpacked into the cache. */
  unpacked: Promise<void>;
}

/**
 * Streams one layer into the blob store, resuming from a partial download when there is one, while a
 * worker unpacks what has arrived. Resolves once all of it is written, freeing the download slot; the
 * blob is verified (by the worker, which hashes what it reads) and the unpack finished after that.
 */
async function downloadLayer(
  box: BoxContext,
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  record: Promise<LayerRecord>,
  { workers, emit, signal }: Omit<LayerFetch, "records">,
): Promise<Downloaded> {
  const id = shortId(descriptor.digest);
  let offset = box.blobs.partialSize(descriptor.digest);
  if (offset >= descriptor.size) offset = 0;
  const response = await client.getBlob(repository, descriptor.digest, offset, signal);
  // What the blob unpacks to is named by the config, requested alongside.
  let layer: LayerRecord;
  try {
    layer = await record;
  } catch (err) {
    response.body.destroy();
    throw err;
  }
  if (offset > 0 && response.status !== 206) offset = 0;
  if (offset > 0) log.info(`resuming ${layer.digest} at ${offset} of ${layer.size} bytes`);
  const unpacking = !box.layers.has(layer.diffId);
  // The blob is hashed by the worker following the download as it reads it back, or by this thread as
  // it arrives: whichever has less to do (see canDigest).
  const hashHere = !unpacking || !workers.canDigest();
  const writer = await box.blobs.writer(layer.digest, layer.size, offset, { hash: hashHere });
  let extraction: Extraction | undefined;
  let unpacked = Promise.resolve();
  const stored = Promise.withResolvers<void>();
  stored.promise.catch(() => {}); // the unpack awaits it, and fails with it
  if (unpacking) {
    // Opened before the blob can be renamed into the store; the worker reads through it.
    const fd = openSync(box.blobs.partialPath(layer.digest), "r");
    const source = { fd, size: layer.size, available: offset, digest: !hashHere };
    extraction = extract(box, workers, layer, source, emit, stored.promise);
    unpacked = extraction.done.finally(() => closeSync(fd));
    unpacked.catch(() => {}); // the caller awaits it once the download is done
  }
  let lastReport = 0;
  try {
    for await (const chunk of response.body) {
      await writer.write(chunk as Uint8Array);
      extraction?.grow(writer.written);
      const now = performance.now();
      if (now - lastReport > 100) {
        lastReport = now;
        emit({ status: "Downloading", id, progressDetail: { current: writer.written, total: layer.size } });
      }
    }
  } catch (err) {
    await writer.close();
    await extraction?.abort();
    if (err instanceof A3sError) throw err;
    throw new A3sError(
      "network",
      `download of layer ${id} interrupted at ${writer.written} of ${layer.size} bytes`,
      { cause: err, hint: "pull again: the download resumes where it stopped" },
    );
  }
  emit({ status: "Downloading", id, progressDetail: { current: writer.written, total: layer.size } });
  emit({ status: "Verifying Checksum", id });
  const verified = (async () => {
    // The blob goes to disk while the worker reads the rest of it back (and digests it).
    const [digest] = await Promise.all([
      writer.written === layer.size ? extraction?.end() : undefined,
      writer.close(),
    ]);
    await writer.commit(digest);
    emit({ status: "Download complete", id });
  })().then(stored.resolve, async (err: unknown) => {
    stored.reject(err);
    await extraction?.abort();
    throw err;
  });
  // A corrupt blob is the error to report, rather than what unpacking its bytes ran into.
  return { bytes: layer.size - offset, unpacked: verified.then(() => unpacked) };
}

async function runBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
