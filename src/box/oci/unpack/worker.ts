/**
 * The unpack worker's entry point (see workers.ts): runs unpackLayer for each job the main thread
 * sends, several at once, and answers with the result or the error.
 */
import { A3sError } from "../../../core/errors.ts";
import { settleForShortRun } from "../../../core/jit.ts";
import { unpackLayer } from "../unpack.ts";
import { GrowingFile } from "./growing-file.ts";
import type { WorkerReply, WorkerRequest } from "./workers.ts";

declare const self: Worker;

settleForShortRun();
// The tar parser loads while the first download starts rather than when its bytes arrive.
void import("tar");

const PROGRESS_INTERVAL_MS = 100;

interface Job {
  file: GrowingFile | undefined;
  abort: AbortController;
}

const jobs = new Map<number, Job>();

function reply(message: WorkerReply): void {
  self.postMessage(message);
}

async function run(request: Extract<WorkerRequest, { type: "unpack" }>): Promise<void> {
  const { source, job } = request;
  const input =
    "fd" in source ? new GrowingFile(source.fd, source.size, source.available, source.digest) : source.path;
  const file = typeof input === "string" ? undefined : input;
  const abort = new AbortController();
  jobs.set(job, { file, abort });
  // The digest goes out as soon as the last byte is read, ahead of the rest of the unpack.
  void file?.digest.then((digest) => reply({ type: "digest", job, digest }));
  let lastProgress = 0;
  try {
    const result = await unpackLayer(input, request.target, {
      whiteouts: request.whiteouts,
      signal: abort.signal,
      ...(request.progress
        ? {
            onProgress: (current: number, total: number) => {
              const now = performance.now();
              if (now - lastProgress < PROGRESS_INTERVAL_MS && current < total) return;
              lastProgress = now;
              reply({ type: "progress", job, current, total });
            },
          }
        : {}),
    });
    reply({ type: "done", job, result });
  } catch (err) {
    const error =
      err instanceof A3sError ? err : new A3sError("internal", String((err as Error)?.message ?? err));
    reply({ type: "error", job, error: error.toJSON() });
  } finally {
    jobs.delete(job);
  }
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "unpack") {
    void run(request);
    return;
  }
  const job = jobs.get(request.job);
  if (!job) return;
  if (request.type === "grow") job.file?.grow(request.available);
  else if (request.type === "end") job.file?.end();
  else {
    const interrupted = new A3sError("interrupted", "unpacking the layer was interrupted");
    job.file?.fail(interrupted);
    job.abort.abort();
  }
};
