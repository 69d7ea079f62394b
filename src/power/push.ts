/**
 * `a3s power push`: upload a local model to an OCI registry under the exact name it has here (as
 * `ollama push`: copy it to `host/namespace/model:tag` first). Blobs the registry has are skipped,
 * the others uploaded in resumable chunks, then the manifest is PUT verbatim so the registry's digest
 * is the local one. Progress is reported as Ollama's /api/push stream:
 *
 *   {"status":"retrieving manifest"}
 *   {"status":"pushing dde5aa3fc5ff","digest":"sha256:dde5…","total":2019377376,"completed":241970}
 *   {"status":"pushing manifest"}
 *   {"status":"success"}
 */
import { readFileSync } from "node:fs";
import { blobExists, putManifest, uploadBlob } from "../box/oci/upload.ts";
import { A3sError } from "../core/errors.ts";
import { logger } from "../core/log.ts";
import type { PowerContext } from "./context.ts";
import { blobsOf, MANIFEST_MEDIA_TYPE, parseOllamaManifest } from "./manifest.ts";
import {
  DEFAULT_NAMESPACE,
  formatName,
  type ModelName,
  OLLAMA_REGISTRY,
  parseModelName,
  repositoryOf,
} from "./name.ts";
import { type PullEvent, progressEvent, registryClient, throttle } from "./pull.ts";

const log = logger("power.push");

/** The push stream has the pull stream's shape. */
export type PushEvent = PullEvent;

export interface PushOptions {
  name: string;
  /** Allow plain HTTP to the registry (`ollama push --insecure`). */
  insecure?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: PushEvent) => void;
  /** Bytes per PATCH request (tests use small ones to exercise chunking). */
  chunkSize?: number;
}

export interface PushResult {
  name: ModelName;
  /** sha256 of the manifest, the same here and in the registry. */
  digest: string;
  /** Bytes of the blobs uploaded by this push (blobs the registry had are not counted). */
  uploadedBytes: number;
}

/** Hosts of Ollama's own registry, whose pushes are signed with the user's ed25519 key. */
const OLLAMA_HOSTS = new Set([OLLAMA_REGISTRY, "ollama.com"]);

/** Refuses, before any traffic, what only Ollama's key-signing auth could push. */
function refuseOllamaRegistry(name: ModelName, asTyped: string): void {
  if (!OLLAMA_HOSTS.has(name.host)) return;
  const reason =
    name.namespace === DEFAULT_NAMESPACE
      ? `the '${DEFAULT_NAMESPACE}' namespace of ${name.host} holds Ollama's official models`
      : `${name.host} needs Ollama's key-signed authentication, which a3s does not have`;
  throw new A3sError("usage", `cannot push '${asTyped}': ${reason}`, {
    hint: `push to an OCI registry instead: a3s power cp ${asTyped} host/namespace/model:tag, then a3s power push host/namespace/model:tag`,
  });
}

function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new A3sError("interrupted", "push interrupted", {
      hint: "run the same push again: blobs already in the registry are not sent twice",
    });
  }
}

export async function pushModel(power: PowerContext, options: PushOptions): Promise<PushResult> {
  const name = parseModelName(options.name, power.registry.host);
  refuseOllamaRegistry(name, options.name);
  const { store } = power;
  if (!store.get(name)) {
    throw new A3sError("not_found", `model '${options.name}' not found`, {
      hint: `push uses the name the model has here: copy it first, e.g. a3s power cp <model> ${options.name}`,
    });
  }
  const emit = options.onEvent ?? (() => {});
  emit({ status: "retrieving manifest" });
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(store.manifestPath(name));
  } catch (err) {
    throw new A3sError("integrity", `the manifest of ${formatName(name)} is missing from the store`, {
      cause: err,
      hint: "pull or create the model again",
    });
  }
  const manifest = parseOllamaManifest(bytes);
  const blobs = blobsOf(manifest);
  for (const blob of blobs) {
    const size = store.hasBlob(blob.digest) ? store.blobSize(blob.digest) : undefined;
    if (size !== blob.size) {
      throw new A3sError(
        "integrity",
        size === undefined
          ? `blob ${blob.digest} of ${formatName(name)} is missing from the store`
          : `blob ${blob.digest} of ${formatName(name)} is ${size} bytes, its manifest says ${blob.size}`,
        { hint: "pull or create the model again" },
      );
    }
  }

  const client = registryClient(power, name, options.insecure === true);
  const repository = repositoryOf(name);
  const { signal } = options;
  let uploadedBytes = 0;
  for (const blob of blobs) {
    checkInterrupted(signal);
    if (await blobExists(client, repository, blob.digest, signal)) {
      emit(progressEvent(blob, blob.size, "pushing"));
      continue;
    }
    const progress = throttle((completed: number) => emit(progressEvent(blob, completed, "pushing")));
    try {
      progress.update(0, false);
      await uploadBlob(
        client,
        repository,
        { digest: blob.digest, size: blob.size, path: store.blobPath(blob.digest) },
        {
          ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
          ...(signal ? { signal } : {}),
          onProgress: (completed) => progress.update(completed, false),
        },
      );
      progress.update(blob.size, true);
    } finally {
      progress.flush();
    }
    uploadedBytes += blob.size;
  }

  checkInterrupted(signal);
  emit({ status: "pushing manifest" });
  const digest = await putManifest(
    client,
    repository,
    name.tag,
    bytes,
    manifest.mediaType ?? MANIFEST_MEDIA_TYPE,
    signal,
  );
  log.info(`pushed ${formatName(name)} (${digest}, ${uploadedBytes} bytes uploaded)`);
  emit({ status: "success" });
  return { name, digest, uploadedBytes };
}
