/**
 * Downloads one blob into the model store. Small blobs stream into `sha256-<hex>-partial` in one
 * request, resumed with a Range request from the partial's size. Large ones are split into parts
 * fetched in parallel with `Range: bytes=a-b`, each written at its offset into one sparse file; the
 * parts' progress is kept in `sha256-<hex>-partial.json`, so an interrupted pull resumes every part
 * where it stopped (as Ollama's downloader does). Redirects to object storage are followed by the HTTP
 * client. Nothing is trusted until `verifyDownload` has hashed the whole file against its digest.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type { RegistryClient } from "../box/oci/registry.ts";
import { A3sError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { type HttpResponse, headerValue } from "../core/http.ts";
import { logger } from "../core/log.ts";
import type { Descriptor } from "./manifest.ts";
import type { ModelStore } from "./store.ts";

const log = logger("power.download");

const MIB = 1024 * 1024;
export const DEFAULT_PARALLEL = { threshold: 64 * MIB, maxParts: 8, minPartSize: 16 * MIB };
const ATTEMPTS = 5;
/** How often the parts' progress is saved while downloading. */
const SAVE_INTERVAL_MS = 1000;

export interface ParallelOptions {
  /** Blobs at least this large are fetched in parallel ranges. */
  threshold: number;
  maxParts: number;
  minPartSize: number;
}

export interface DownloadOptions {
  parallel?: ParallelOptions;
  signal?: AbortSignal;
  /** Bytes of the blob on disk so far (resumed bytes included). */
  onProgress?: (completed: number) => void;
}

export interface Part {
  offset: number;
  size: number;
  completed: number;
}

interface SavedState {
  digest: string;
  size: number;
  parts: Part[];
}

export function partialPath(store: ModelStore, digest: string): string {
  return `${store.blobPath(digest)}-partial`;
}

function statePath(store: ModelStore, digest: string): string {
  return `${partialPath(store, digest)}.json`;
}

/** Splits a blob into equal ranges: one below the threshold, else up to maxParts of minPartSize or more. */
export function planParts(size: number, parallel: ParallelOptions): Part[] {
  const count =
    size < parallel.threshold
      ? 1
      : Math.max(1, Math.min(parallel.maxParts, Math.floor(size / parallel.minPartSize)));
  const partSize = Math.ceil(size / count);
  const parts: Part[] = [];
  for (let offset = 0; offset < size || parts.length === 0; offset += partSize) {
    parts.push({ offset, size: Math.min(partSize, size - offset), completed: 0 });
  }
  return parts;
}

/** Where an earlier attempt stopped: the saved parts, or a plain partial file's length, or nothing. */
function resumeState(store: ModelStore, blob: Descriptor, parallel: ParallelOptions): Part[] {
  const saved = statePath(store, blob.digest);
  if (existsSync(saved)) {
    try {
      const state = JSON.parse(readFileSync(saved, "utf8")) as SavedState;
      const valid =
        state.digest === blob.digest &&
        state.size === blob.size &&
        state.parts.reduce((sum, p) => sum + p.size, 0) === blob.size &&
        state.parts.every((p) => p.completed >= 0 && p.completed <= p.size);
      if (valid && existsSync(partialPath(store, blob.digest))) return state.parts;
    } catch {
      // unreadable: start over
    }
    discardDownload(store, blob.digest);
  }
  const parts = planParts(blob.size, parallel);
  let have = 0;
  try {
    have = statSync(partialPath(store, blob.digest)).size;
  } catch {}
  // A partial without saved parts was written front to back: everything before its end is there.
  if (have > blob.size) have = 0;
  for (const part of parts) part.completed = Math.max(0, Math.min(part.size, have - part.offset));
  return parts;
}

/** Downloads a blob to its partial file (verify and commit it with `verifyDownload`); returns bytes fetched. */
export async function downloadBlob(
  client: RegistryClient,
  repository: string,
  store: ModelStore,
  blob: Descriptor,
  options: DownloadOptions = {},
): Promise<number> {
  const parallel = options.parallel ?? DEFAULT_PARALLEL;
  let parts = resumeState(store, blob, parallel);
  const already = parts.reduce((sum, p) => sum + p.completed, 0);
  if (already > 0)
    log.info(`resuming ${blob.digest} at ${already} of ${blob.size} bytes (${parts.length} parts)`);
  try {
    await new PartsDownload(client, repository, store, blob, parts, options).run();
  } catch (err) {
    if (err instanceof A3sError && err.code === "integrity") discardDownload(store, blob.digest);
    if (!(err instanceof RangeIgnored)) throw err;
    // The server sent the whole blob to a Range request: fall back to one stream from the start.
    log.warn(`${client.registry} ignores Range requests; downloading ${blob.digest} in one stream`);
    discardDownload(store, blob.digest);
    parts = [{ offset: 0, size: blob.size, completed: 0 }];
    await new PartsDownload(client, repository, store, blob, parts, options).run();
    return blob.size;
  }
  return blob.size - already;
}

/** Forgets a download: its partial file and saved parts. */
export function discardDownload(store: ModelStore, digest: string): void {
  rmSync(statePath(store, digest), { force: true });
  rmSync(partialPath(store, digest), { force: true });
}

class RangeIgnored extends Error {}

class PartsDownload {
  private handle: FileHandle | undefined;
  private readonly abort = new AbortController();
  private lastSave = 0;
  private readonly sidecar: boolean;

  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
    private readonly store: ModelStore,
    private readonly blob: Descriptor,
    private readonly parts: Part[],
    private readonly options: DownloadOptions,
  ) {
    this.sidecar = parts.length > 1;
    options.signal?.addEventListener("abort", () => this.abort.abort(), { once: true });
  }

  async run(): Promise<void> {
    const path = partialPath(this.store, this.blob.digest);
    mkdirSync(this.store.blobsDir, { recursive: true });
    // Saved before the file grows, so a partial file is never ambiguous about what it holds.
    if (this.sidecar) this.save(true);
    this.handle = await open(path, existsSync(path) ? "r+" : "w+", 0o644);
    let failure: unknown;
    try {
      // Parts write into a file of the blob's size; one stream appends after what is already there.
      await this.handle.truncate(this.sidecar ? this.blob.size : (this.parts[0]?.completed ?? 0));
      this.report();
      await Promise.all(
        this.parts.map((part) =>
          this.runPart(part).catch((err) => {
            failure ??= err;
            this.abort.abort();
          }),
        ),
      );
    } finally {
      try {
        if (this.sidecar) this.save(true);
      } catch {
        // the parts saved earlier stay: they undercount, which only costs a re-download
      }
      await this.handle.close();
    }
    if (failure !== undefined) {
      if (this.options.signal?.aborted) {
        throw new A3sError("interrupted", "pull interrupted", {
          cause: failure,
          hint: "run the same pull again: it resumes where it stopped",
        });
      }
      throw failure;
    }
  }

  private completed(): number {
    return this.parts.reduce((sum, p) => sum + p.completed, 0);
  }

  private report(): void {
    this.options.onProgress?.(this.completed());
  }

  /**
   * Records the parts' progress. The data is not fsynced first: after a power cut a saved count may
   * run ahead of what reached the disk, and the sha256 verification then rejects the file.
   */
  private save(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastSave < SAVE_INTERVAL_MS) return;
    this.lastSave = now;
    const snapshot: SavedState = {
      digest: this.blob.digest,
      size: this.blob.size,
      parts: this.parts.map((p) => ({ ...p })),
    };
    writeFileAtomic(statePath(this.store, this.blob.digest), JSON.stringify(snapshot));
  }

  private async runPart(part: Part): Promise<void> {
    for (let attempt = 1; part.completed < part.size; attempt++) {
      try {
        await this.fetchPart(part);
      } catch (err) {
        if (this.abort.signal.aborted || err instanceof RangeIgnored) throw err;
        const retryable = err instanceof A3sError && err.code === "network";
        if (!retryable || attempt >= ATTEMPTS) throw err;
        log.info(`${this.blob.digest} part at ${part.offset}: attempt ${attempt} failed, retrying`, {
          error: err,
        });
        await Bun.sleep(Math.min(8000, 250 * 2 ** attempt));
      }
    }
  }

  private async fetchPart(part: Part): Promise<void> {
    const start = part.offset + part.completed;
    const end = part.offset + part.size - 1;
    const signal = this.abort.signal;
    const whole = start === 0 && part.size === this.blob.size;
    const response = whole
      ? await this.client.getBlob(this.repository, this.blob.digest, 0, signal)
      : await this.client.getBlobRange(this.repository, this.blob.digest, start, end, signal);
    if (!whole) this.checkRange(response, part, start);
    try {
      for await (const chunk of response.body) {
        const bytes = chunk as Uint8Array;
        if (part.completed + bytes.length > part.size) {
          throw new A3sError(
            "integrity",
            `blob ${this.blob.digest} is larger than the ${this.blob.size} bytes declared`,
          );
        }
        await writeAt(this.handle as FileHandle, bytes, part.offset + part.completed);
        part.completed += bytes.length;
        this.report();
        if (this.sidecar) this.save();
      }
    } catch (err) {
      if (err instanceof A3sError) throw err;
      throw new A3sError(
        "network",
        `download of ${this.blob.digest.slice(7, 19)} interrupted at ${this.completed()} of ${this.blob.size} bytes`,
        { cause: err, hint: "pull again: the download resumes where it stopped" },
      );
    }
    if (part.completed < part.size) {
      throw new A3sError("network", `${this.client.registry} ended blob ${this.blob.digest} early`);
    }
  }

  /** A Range request must come back as 206 starting where asked; a 200 of one whole part is fine too. */
  private checkRange(response: HttpResponse, part: Part, start: number): void {
    if (response.status === 206) {
      const range = /^bytes (\d+)-/.exec(headerValue(response, "content-range") ?? "");
      if (range && Number(range[1]) === start) return;
      response.body.destroy();
      throw new RangeIgnored();
    }
    response.body.destroy();
    if (this.parts.length === 1) {
      // Resuming a single stream that the server will not resume: start again from zero.
      part.completed = 0;
      throw new A3sError("network", `${this.client.registry} did not resume ${this.blob.digest}; restarting`);
    }
    throw new RangeIgnored();
  }
}

async function writeAt(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Hashes the downloaded file; when it matches the digest it becomes the blob, otherwise it is deleted
 * (with its saved parts) and the pull fails with an integrity error.
 */
export async function verifyDownload(store: ModelStore, blob: Descriptor): Promise<void> {
  const path = partialPath(store, blob.digest);
  const size = statSync(path).size;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  const actual = `sha256:${hash.digest("hex")}`;
  rmSync(statePath(store, blob.digest), { force: true });
  if (size !== blob.size || actual !== blob.digest) {
    rmSync(path, { force: true });
    const detail =
      size !== blob.size ? `${size} bytes received, ${blob.size} expected` : `content hashes to ${actual}`;
    throw new A3sError("integrity", `blob ${blob.digest} failed verification: ${detail}`, {
      hint: "the registry or a proxy served corrupt data; nothing was stored, pull again",
    });
  }
  renameSync(path, store.blobPath(blob.digest));
}
