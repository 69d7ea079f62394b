/**
 * Pushing to an OCI Distribution registry (distribution-spec "Push"): HEAD a blob to skip what the
 * registry has, else POST an upload session and send the blob in PATCH chunks (`Content-Range:
 * start-end`), each answer giving the Location of the next; PUT `?digest=` closes the session and
 * the registry verifies the digest. A chunk lost to a dropped connection or a 5xx is resumed from
 * where the registry says it stands (GET <location> → `Range: 0-N`). Manifests are PUT verbatim so
 * their digest does not change. Chunks stream from the file: a blob is never held in memory.
 */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { A3sError } from "../../core/errors.ts";
import { backoff, type HttpResponse, headerValue } from "../../core/http.ts";
import { logger } from "../../core/log.ts";
import { type RegistryClient, sha256Digest } from "./registry.ts";

const log = logger("box.upload");

/** Token scope of every push request, so one token serves the HEADs, the uploads and the manifest. */
const PUSH = "pull,push";
const MIB = 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 64 * MIB;
/** Attempts at a chunk after the first; the count starts again after each chunk that gets through. */
const DEFAULT_RETRIES = 4;

export interface LocalBlob {
  digest: string;
  size: number;
  /** The file holding the blob's bytes. */
  path: string;
}

export interface UploadOptions {
  /** Bytes per PATCH request. */
  chunkSize?: number;
  retries?: number;
  signal?: AbortSignal;
  /** Bytes of the blob the registry has received or is receiving. */
  onProgress?: (completed: number) => void;
}

/** Error codes of the spec that mean the content itself is wrong, not the transport. */
const INTEGRITY_CODES = new Set([
  "DIGEST_INVALID",
  "BLOB_UPLOAD_INVALID",
  "SIZE_INVALID",
  "MANIFEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_UNVERIFIED",
  "BLOB_UNKNOWN",
]);

interface RegistryErrorBody {
  errors?: Array<{ code?: string; message?: string; detail?: unknown }>;
}

/** Turns a registry's answer into an A3sError carrying the registry's own code and message. */
export async function registryError(
  client: RegistryClient,
  response: HttpResponse,
  what: string,
): Promise<A3sError> {
  const text = await response.body.text().catch(() => "");
  let codes: string[] = [];
  let detail = text.trim().slice(0, 200);
  try {
    const errors = (JSON.parse(text) as RegistryErrorBody).errors ?? [];
    codes = errors.map((error) => error.code ?? "");
    const first = errors[0];
    if (first) detail = `${first.code ?? ""}: ${first.message ?? ""}`;
  } catch {
    // not an error document; the raw text is the detail
  }
  const message = `${client.registry}: ${what}: HTTP ${response.status}${detail ? ` ${detail}` : ""}`;
  if (codes.some((code) => INTEGRITY_CODES.has(code))) {
    return new A3sError("integrity", message, {
      hint: "the local copy no longer matches its digest; pull or create it again",
    });
  }
  const denied = codes.some((code) => code === "DENIED" || code === "UNAUTHORIZED");
  if (denied || response.status === 401 || response.status === 403) {
    return new A3sError("permission", message, { hint: `a3s box login ${client.registry}` });
  }
  return new A3sError(response.status === 404 ? "not_found" : "network", message);
}

/** HEAD /v2/<repo>/blobs/<digest>: true when the registry has the blob. */
export async function blobExists(
  client: RegistryClient,
  repository: string,
  digest: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const response = await client.request(repository, PUSH, `/v2/${repository}/blobs/${digest}`, {
    method: "HEAD",
    ...(signal ? { signal } : {}),
  });
  if (response.status === 200) {
    await response.body.dump();
    return true;
  }
  if (response.status === 404) {
    await response.body.dump();
    return false;
  }
  throw await registryError(client, response, `check blob ${digest}`);
}

/** The Location of the next request, absolute: relative ones resolve against the answering URL. */
function nextLocation(client: RegistryClient, response: HttpResponse): string {
  const location = headerValue(response, "location");
  if (!location) {
    throw new A3sError(
      "network",
      `${client.registry}: upload answer HTTP ${response.status} has no Location`,
    );
  }
  return new URL(location, response.url).toString();
}

/** Where an upload stands: the bytes received so far, from `Range: 0-<last>`. */
async function uploadStatus(
  client: RegistryClient,
  repository: string,
  location: string,
  signal?: AbortSignal,
): Promise<{ location: string; offset: number } | undefined> {
  const response = await client.request(repository, PUSH, location, signal ? { signal } : {});
  if (response.status !== 204 && response.status !== 200) {
    // The session is gone or unusable (distribution cancels one whose stored size disagrees with
    // its state after a cut chunk): the caller starts a new one.
    log.debug(`upload status HTTP ${response.status}`, {
      detail: await response.body.text().catch(() => ""),
    });
    return undefined;
  }
  await response.body.dump();
  const range = /(\d+)-(\d+)/.exec(headerValue(response, "range") ?? "");
  const last = Number(range?.[2] ?? 0);
  // "0-0" is what distribution answers for both 0 and 1 byte received: start over rather than guess.
  if (!range || last === 0) return undefined;
  return {
    location: headerValue(response, "location") ? nextLocation(client, response) : location,
    offset: last + 1,
  };
}

async function startUpload(
  client: RegistryClient,
  repository: string,
  signal?: AbortSignal,
): Promise<string> {
  const response = await client.request(repository, PUSH, `/v2/${repository}/blobs/uploads/`, {
    method: "POST",
    headers: { "content-length": "0" },
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 202) throw await registryError(client, response, "start upload");
  await response.body.dump();
  return nextLocation(client, response);
}

/** Bytes start..end (inclusive) of the file, read as they are sent, counted into `onRead`. */
function chunkBody(path: string, start: number, end: number, onRead: (bytes: number) => void): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of createReadStream(path, { start, end })) {
        onRead((chunk as Buffer).length);
        yield chunk as Buffer;
      }
    })(),
  );
}

/** A dropped connection, a timeout or a 5xx: worth asking the registry where it stands and going on. */
function transient(err: unknown): boolean {
  return err instanceof A3sError && err.code === "network";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new A3sError("interrupted", "upload cancelled"));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new A3sError("interrupted", "upload cancelled"));
      },
      { once: true },
    );
  });
}

/** Uploads one blob in chunks, resuming after failed ones, and closes the session with its digest. */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  blob: LocalBlob,
  options: UploadOptions = {},
): Promise<void> {
  const { signal } = options;
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const retries = options.retries ?? DEFAULT_RETRIES;
  const progress = options.onProgress ?? (() => {});
  const withSignal = signal ? { signal } : {};
  let location = await startUpload(client, repository, signal);
  try {
    let offset = 0;
    let failures = 0;
    while (offset < blob.size) {
      const end = Math.min(blob.size, offset + chunkSize) - 1;
      let failure: unknown;
      try {
        const response = await client.request(repository, PUSH, location, {
          method: "PATCH",
          headers: {
            "content-type": "application/octet-stream",
            "content-range": `${offset}-${end}`,
            "content-length": String(end - offset + 1),
          },
          body: () => {
            let sent = offset;
            return chunkBody(blob.path, offset, end, (bytes) => {
              sent += bytes;
              progress(sent);
            });
          },
          ...withSignal,
        });
        if (response.status === 202) {
          await response.body.dump();
          location = nextLocation(client, response);
          offset = end + 1;
          failures = 0;
          continue;
        }
        // 416: the registry holds a different amount than we thought; ask it, as after a cut.
        const error = await registryError(client, response, `upload ${blob.digest} bytes ${offset}-${end}`);
        if (response.status < 500 && response.status !== 416) throw error;
        failure = error;
      } catch (err) {
        if (!transient(err)) throw err;
        failure = err;
      }
      if (++failures > retries) throw failure;
      log.debug(`chunk ${offset}-${end} of ${blob.digest} failed, attempt ${failures}`, { error: failure });
      await sleep(backoff(failures - 1), signal);
      const status = await uploadStatus(client, repository, location, signal).catch((err: unknown) => {
        if (transient(err)) return undefined;
        throw err;
      });
      if (status) ({ location, offset } = status);
      else {
        location = await startUpload(client, repository, signal);
        offset = 0;
      }
      progress(offset);
    }
    const separator = location.includes("?") ? "&" : "?";
    const response = await client.request(
      repository,
      PUSH,
      `${location}${separator}digest=${encodeURIComponent(blob.digest)}`,
      { method: "PUT", headers: { "content-length": "0" }, ...withSignal },
    );
    if (response.status !== 201 && response.status !== 204) {
      throw await registryError(client, response, `finish upload of ${blob.digest}`);
    }
    await response.body.dump();
  } catch (err) {
    // Best effort: tell the registry to drop what it holds of this upload. Not after Ctrl-C, which
    // should not wait on the network; registries purge abandoned uploads by themselves.
    if (!signal?.aborted) {
      await client
        .request(repository, PUSH, location, { method: "DELETE", retries: 0 })
        .then((response) => response.body.dump())
        .catch(() => {});
    }
    throw err;
  }
}

/**
 * PUT /v2/<repo>/manifests/<reference> with the bytes as stored, so the registry computes the same
 * digest the local store has; returns it, checked against Docker-Content-Digest when given.
 */
export async function putManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
  signal?: AbortSignal,
): Promise<string> {
  const digest = sha256Digest(bytes);
  const response = await client.request(repository, PUSH, `/v2/${repository}/manifests/${reference}`, {
    method: "PUT",
    headers: { "content-type": mediaType, "content-length": String(bytes.length) },
    body: () => bytes,
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 201 && response.status !== 200) {
    throw await registryError(client, response, `push manifest ${repository}:${reference}`);
  }
  await response.body.dump();
  const advertised = headerValue(response, "docker-content-digest");
  if (advertised?.startsWith("sha256:") && advertised !== digest) {
    throw new A3sError(
      "integrity",
      `${client.registry} stored manifest ${repository}:${reference} as ${advertised}, expected ${digest}`,
    );
  }
  return digest;
}
