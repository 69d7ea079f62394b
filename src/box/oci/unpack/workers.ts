/**
 * Unpacking on worker threads. A pull's main thread receives and writes layer blobs; the workers
 * read them back as they grow (growing-file.ts), hash them (the blob's digest) and decompress, hash
 * (the diff ID) and extract them at the same time, so a cold pull costs about the longer of the two
 * instead of their sum. The thread the network waits on hashes a blob when that evens out the load
 * (canDigest).
 */
import { availableParallelism } from "node:os";
import { A3sError, type ErrorCode } from "../../../core/errors.ts";
import type { UnpackOptions, UnpackResult } from "../unpack.ts";

/**
 * What to unpack: a complete blob file, or a download in progress read through `fd` (and digested
 * as it is read when `digest` is set).
 */
export type WorkerSource =
  | { path: string }
  | { fd: number; size: number; available: number; digest: boolean };

export type WorkerRequest =
  | {
      type: "unpack";
      job: number;
      source: WorkerSource;
      target: string;
      whiteouts: NonNullable<UnpackOptions["whiteouts"]>;
      progress: boolean;
    }
  | { type: "grow"; job: number; available: number }
  | { type: "end"; job: number }
  | { type: "abort"; job: number };

export type WorkerReply =
  | { type: "progress"; job: number; current: number; total: number }
  | { type: "digest"; job: number; digest: string }
  | { type: "done"; job: number; result: UnpackResult }
  | { type: "error"; job: number; error: { code: ErrorCode; message: string; hint?: string } };

export interface UnpackJob {
  /** `available` bytes of the download are on disk. */
  grow(available: number): void;
  /** All of the download is on disk. */
  end(): void;
  /** Stops the extraction; `done` rejects. */
  abort(): void;
  readonly done: Promise<UnpackResult>;
  /**
   * The digest of a download, once the worker has read all of it; undefined if the job ended first
   * (or does not digest its source).
   */
  readonly digest: Promise<string | undefined>;
}

interface Running {
  worker: Slot;
  resolve(result: UnpackResult): void;
  reject(error: Error): void;
  digested(digest: string | undefined): void;
  onProgress: ((current: number, total: number) => void) | undefined;
}

interface Slot {
  worker: Worker;
  jobs: number;
}

/**
 * In the compiled binary every entry point is embedded under its path from the repository root, and
 * scripts/build.ts makes this worker one; run from source, it sits next to this file.
 */
function workerSpecifier(): string {
  return Bun.main.startsWith("/$bunfs/")
    ? "./src/box/oci/unpack/worker.ts"
    : new URL("./worker.ts", import.meta.url).href;
}

/**
 * One worker per core, at most four, less the core the main thread keeps busy while layers download
 * (receiving, writing and hashing them): on two cores a second worker only competes with it for the
 * CPU, and its VM's start costs more than it saves (a cold pull of 121 MiB: ~225 → ~215 ms).
 */
export function defaultWorkerCount(downloading = false): number {
  const cores = availableParallelism();
  return Math.max(1, Math.min(4, downloading ? cores - 1 : cores));
}

export class UnpackWorkers {
  private readonly slots: Slot[] = [];
  private readonly running = new Map<number, Running>();
  private nextJob = 1;
  private closed = false;

  constructor(private size = defaultWorkerCount()) {}

  /** Sets how many workers may run from now on; those already started stay. */
  resize(size: number): void {
    this.size = Math.max(1, size);
  }

  /**
   * Whether the worker taking the next download should digest its blob too. Unpacking a layer costs a
   * worker about twice what receiving it costs the main thread, so the digest goes where it evens the
   * two out: to the main thread when there is one worker, or every worker has a layer already.
   */
  canDigest(): boolean {
    const busy = this.slots.length >= this.size && this.slots.every((slot) => slot.jobs > 0);
    return this.size > 1 && !busy;
  }

  /** Boots workers for `jobs` coming jobs ahead of the first, so their start overlaps other work. */
  prestart(jobs: number): void {
    while (!this.closed && this.slots.length < Math.min(jobs, this.size)) this.spawn();
  }

  unpack(
    source: WorkerSource,
    target: string,
    options: Pick<UnpackOptions, "whiteouts" | "onProgress"> = {},
  ): UnpackJob {
    if (this.closed) throw new A3sError("internal", "the unpack workers were closed");
    const job = this.nextJob++;
    const slot = this.leastBusy();
    const post = (message: WorkerRequest) => {
      if (this.running.has(job)) slot.worker.postMessage(message);
    };
    const digest = Promise.withResolvers<string | undefined>();
    const done = new Promise<UnpackResult>((resolve, reject) => {
      this.running.set(job, {
        worker: slot,
        resolve,
        reject,
        digested: digest.resolve,
        onProgress: options.onProgress,
      });
    });
    slot.jobs++;
    slot.worker.postMessage({
      type: "unpack",
      job,
      source,
      target,
      whiteouts: options.whiteouts ?? "apply",
      progress: options.onProgress !== undefined,
    } satisfies WorkerRequest);
    return {
      grow: (available) => post({ type: "grow", job, available }),
      end: () => post({ type: "end", job }),
      abort: () => post({ type: "abort", job }),
      done,
      digest: digest.promise,
    };
  }

  /**
   * Ends the workers; jobs still running reject, once their threads are gone (so nothing writes into
   * a staging directory while it is being removed). Idle workers are not waited for: nothing of theirs
   * can outlive them, and the process need not stay up while their VMs are torn down.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running.size === 0) {
      for (const { worker } of this.slots) {
        worker.unref();
        worker.terminate();
      }
      return;
    }
    await Promise.all(
      this.slots.map(
        ({ worker }) =>
          new Promise<void>((resolve) => {
            worker.addEventListener("close", () => resolve(), { once: true });
            worker.terminate();
          }),
      ),
    );
    this.failAll(new A3sError("interrupted", "unpacking the layer was interrupted"));
  }

  private leastBusy(): Slot {
    const idle = this.slots.find((slot) => slot.jobs === 0);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.spawn();
    return this.slots.reduce((best, slot) => (slot.jobs < best.jobs ? slot : best));
  }

  private spawn(): Slot {
    const worker = new Worker(workerSpecifier());
    const slot: Slot = { worker, jobs: 0 };
    worker.addEventListener("message", (event: MessageEvent<WorkerReply>) => this.receive(event.data));
    worker.addEventListener("error", (event) => {
      this.failAll(new A3sError("internal", `an unpack worker failed: ${event.message}`), slot);
    });
    worker.addEventListener("close", () => {
      if (!this.closed) this.failAll(new A3sError("internal", "an unpack worker exited"), slot);
    });
    this.slots.push(slot);
    return slot;
  }

  private receive(reply: WorkerReply): void {
    const running = this.running.get(reply.job);
    if (!running) return;
    if (reply.type === "progress") {
      running.onProgress?.(reply.current, reply.total);
      return;
    }
    if (reply.type === "digest") {
      running.digested(reply.digest);
      return;
    }
    this.running.delete(reply.job);
    running.worker.jobs--;
    running.digested(undefined);
    if (reply.type === "done") running.resolve(reply.result);
    else running.reject(new A3sError(reply.error.code, reply.error.message, { hint: reply.error.hint }));
  }

  private failAll(error: Error, only?: Slot): void {
    for (const [job, running] of this.running) {
      if (only && running.worker !== only) continue;
      this.running.delete(job);
      running.worker.jobs--;
      running.digested(undefined);
      running.reject(error);
    }
  }
}
