/**
 * `a3s power pull`: fetch a model's manifest from an Ollama-compatible registry, download the blobs
 * the store lacks (large ones in parallel ranges, all resumable), verify every one against its digest,
 * then write the manifest and record the model. Progress is reported as Ollama's /api/pull stream:
 *
 *   {"status":"pulling manifest"}
 *   {"status":"pulling dde5aa3fc5ff","digest":"sha256:dde5…","total":2019377376,"completed":241970}
 *   {"status":"verifying sha256 digest"}
 *   {"status":"writing manifest"}
 *   {"status":"success"}
 */
import { credentialSources, findCredentials } from "../box/oci/credentials.ts";
import { RegistryClient } from "../box/oci/registry.ts";
import { A3sError } from "../core/errors.ts";
import { logger } from "../core/log.ts";
import type { PowerContext } from "./context.ts";
import { discardDownload, downloadBlob, type ParallelOptions, verifyDownload } from "./download.ts";
import { blobsOf, type Descriptor, parseOllamaManifest } from "./manifest.ts";
import {
  displayName,
  endpointFor,
  formatName,
  type ModelName,
  parseModelName,
  repositoryOf,
} from "./name.ts";
import { modelDetails, readModelParts } from "./show.ts";
import type { ModelRecord } from "./store.ts";

const log = logger("power.pull");

/** One message of Ollama's pull stream; `total`/`completed` are left out when zero, as Ollama does. */
export interface PullEvent {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

export interface PullOptions {
  name: string;
  /** Allow plain HTTP to the model's registry (`ollama pull --insecure`). */
  insecure?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: PullEvent) => void;
  /** Overrides when blobs are split into parallel ranges (benchmarks and tests). */
  parallel?: ParallelOptions;
}

export interface PullResult {
  name: ModelName;
  /** The name as `list` shows it. */
  displayName: string;
  record: ModelRecord;
  /** Bytes fetched over the network by this pull (resumed bytes excluded). */
  downloadedBytes: number;
}

/** Ollama throttles progress to one message per blob every 60 ms or so; so do we. */
const PROGRESS_INTERVAL_MS = 100;

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/** `{"status":"pulling <12 hex>",…}`; push reports its blobs the same way with "pushing". */
export function progressEvent(blob: Descriptor, completed: number, verb = "pulling"): PullEvent {
  return {
    status: `${verb} ${shortDigest(blob.digest)}`,
    digest: blob.digest,
    ...(blob.size > 0 ? { total: blob.size } : {}),
    ...(completed > 0 ? { completed } : {}),
  };
}

function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new A3sError("interrupted", "pull interrupted", {
      hint: "run the same pull again: it resumes where it stopped",
    });
  }
}

/**
 * At most one progress message per interval, and never a stale last one: a value held back is sent
 * when the interval ends (so a stalled download still shows how far it got).
 */
export function throttle(send: (completed: number) => void) {
  let last = 0;
  let pending: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === undefined) return;
    const value = pending;
    pending = undefined;
    last = performance.now();
    send(value);
  };
  return {
    update(completed: number, final: boolean) {
      pending = completed;
      const wait = PROGRESS_INTERVAL_MS - (performance.now() - last);
      if (final || wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    flush,
  };
}

export function registryClient(power: PowerContext, name: ModelName, insecure: boolean): RegistryClient {
  const endpoint = endpointFor(name, power.registry);
  const credentials = findCredentials(endpoint.host, credentialSources(power.paths.auth, power.env));
  return new RegistryClient({
    registry: endpoint.host,
    insecure,
    timeoutMs: power.config.http.timeoutMs,
    ...(endpoint.scheme && !insecure ? { scheme: endpoint.scheme } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

export async function pullModel(power: PowerContext, options: PullOptions): Promise<PullResult> {
  const name = parseModelName(options.name, power.registry.host);
  const emit = options.onEvent ?? (() => {});
  const { store } = power;
  emit({ status: "pulling manifest" });
  const client = registryClient(power, name, options.insecure === true);
  const fetched = await client.getManifest(repositoryOf(name), name.tag).catch((err: unknown) => {
    if (err instanceof A3sError && err.code === "not_found") {
      throw new A3sError("not_found", `model '${options.name}' not found in ${name.host}`, {
        cause: err,
        hint: "check the model name and tag",
      });
    }
    throw err;
  });
  checkInterrupted(options.signal);
  const manifest = parseOllamaManifest(fetched.bytes);
  const blobs = blobsOf(manifest);

  let downloadedBytes = 0;
  const fetchedNow: Descriptor[] = [];
  for (const blob of blobs) {
    checkInterrupted(options.signal);
    if (store.hasBlob(blob.digest)) {
      emit(progressEvent(blob, blob.size));
      continue;
    }
    const progress = throttle((completed: number) => emit(progressEvent(blob, completed)));
    try {
      downloadedBytes += await downloadBlob(client, repositoryOf(name), store, blob, {
        ...(options.parallel ? { parallel: options.parallel } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (completed) => progress.update(completed, completed === blob.size),
      });
    } finally {
      progress.flush();
    }
    fetchedNow.push(blob);
  }

  emit({ status: "verifying sha256 digest" });
  let failure: unknown;
  for (const blob of fetchedNow) {
    try {
      await verifyDownload(store, blob);
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined) {
    // Nothing of a failed pull becomes visible: the blobs that verified are dropped as well.
    for (const blob of fetchedNow) {
      if (store.usersOf(blob.digest).length === 0) store.removeBlob(blob.digest);
      discardDownload(store, blob.digest);
    }
    throw failure;
  }

  emit({ status: "writing manifest" });
  const { config, header } = await readModelParts(store, manifest);
  const record = store.save(name, fetched.bytes, modelDetails(config, header));
  log.info(`pulled ${formatName(name)} (${record.digest}, ${downloadedBytes} bytes downloaded)`);
  emit({ status: "success" });
  return { name, displayName: displayName(name, power.registry.host), record, downloadedBytes };
}
