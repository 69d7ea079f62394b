/**
 * Where a saved archive goes: a file, written under a temporary name and renamed into place when
 * complete, or a stream such as stdout, written with backpressure and left open.
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { A3sError, fromSystemError } from "../../../core/errors.ts";

export interface Sink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export async function fileSink(path: string): Promise<Sink> {
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
export function streamSink(stream: NodeJS.WritableStream): Sink {
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
