/**
 * Streams a layer blob through its decompressor into the tar parser and hands each entry to the
 * writer, hashing the uncompressed stream on the way (the layer's diff ID).
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
import type { ReadEntry } from "tar";
import { A3sError, fromSystemError } from "../../../core/errors.ts";
import type { LayerCompression, UnpackOptions } from "../unpack.ts";
import { corrupt } from "./errors.ts";
import type { FileSink, LayerWriter } from "./writer.ts";
import { ZstdFrames } from "./zstd-frames.ts";

/**
 * Decompressor output chunks. Every chunk crosses the stream, hash, tar parser and file write once:
 * 16 KiB (the default) spends a third of the unpack in per-chunk overhead, and 1 MiB takes ~10 ms
 * off a cold pull of 121 MiB against 128 KiB.
 */
const DECODE_CHUNK = 1 << 20;

/** The tar package, loaded when a layer is first unpacked rather than at every a3s start. */
async function loadTar(): Promise<typeof import("tar")> {
  return import("tar");
}

/** The blob as a stream of compressed bytes, with its size (for progress) and what to name in errors. */
export interface LayerInput {
  stream: Readable;
  size: number;
  name: string;
}

/**
 * Streams blob → decompressor → tar parser → writer, settling once: on the parser's end or the first
 * failure. Resolves with the diff ID.
 */
export async function pump(
  { stream: input, size, name }: LayerInput,
  compression: LayerCompression,
  writer: LayerWriter,
  { signal, onProgress }: UnpackOptions,
): Promise<string> {
  const { Parser } = await loadTar();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      input.destroy();
      return reject(new A3sError("interrupted", "unpacking the layer was interrupted"));
    }
    const decoder =
      compression === "gzip"
        ? createGunzip({ chunkSize: DECODE_CHUNK })
        : compression === "zstd"
          ? createZstdDecompress({ chunkSize: DECODE_CHUNK })
          : undefined;
    const frames = compression === "zstd" ? new ZstdFrames() : undefined;
    const parser = new Parser({ zstd: false, brotli: false });
    const hash = createHash("sha256");
    let settled = false;
    let sink: FileSink | undefined;
    let tarBytes = 0;
    let sawNullBlock = false;

    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (err === undefined) return resolve(`sha256:${hash.digest("hex")}`);
      sink?.abandon();
      sink = undefined;
      input.destroy();
      decoder?.destroy();
      parser.abort(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    };
    const guard =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        if (settled) return;
        try {
          fn(...args);
        } catch (err) {
          settle(err);
        }
      };
    const onAbort = () => settle(new A3sError("interrupted", "unpacking the layer was interrupted"));
    signal?.addEventListener("abort", onAbort, { once: true });

    input.on("error", (err) => settle(err instanceof A3sError ? err : fromSystemError(err, `layer ${name}`)));
    if (onProgress) {
      let read = 0;
      input.on(
        "data",
        guard((chunk: Buffer) => {
          read += chunk.length;
          onProgress(read, size);
        }),
      );
    }
    const tar = decoder ?? input;
    if (decoder) {
      if (frames) input.on("data", (chunk) => frames.push(chunk as Buffer));
      input.pipe(decoder);
      decoder.on("error", (err) => settle(corrupt(err.message, err)));
    }
    tar.on(
      "data",
      guard((chunk: Buffer) => {
        tarBytes += chunk.length;
        hash.update(chunk);
        parser.write(chunk);
      }),
    );
    tar.on(
      "end",
      guard(() => {
        if (frames && !frames.complete) throw corrupt("the zstd stream ends inside a frame");
        parser.end();
      }),
    );

    parser.on("error", (err) => settle(corrupt(err.message, err)));
    parser.on("nullBlock", () => {
      sawNullBlock = true;
    });
    parser.on(
      "warn",
      guard((code: string, message: string) => {
        // An empty stream or bare end-of-archive blocks are an empty layer, not a broken one.
        const emptyLayer = writer.result.entries === 0 && (tarBytes === 0 || sawNullBlock);
        if (code === "TAR_BAD_ARCHIVE" && message.startsWith("Unrecognized") && emptyLayer) return;
        throw corrupt(message);
      }),
    );
    parser.on(
      "ignoredEntry",
      guard((entry: ReadEntry) => {
        if (entry.meta) throw corrupt(`oversized ${entry.type} header before '${entry.path}'`);
        writer.result.entries++;
        writer.result.skipped.push({ path: entry.path, reason: `unsupported entry type ${entry.type}` });
      }),
    );
    parser.on(
      "entry",
      guard((entry: ReadEntry) => {
        const opened = writer.begin(entry);
        if (opened === undefined) {
          entry.resume();
          return;
        }
        sink = opened;
        entry.on(
          "end",
          guard(() => {
            const done = opened;
            sink = undefined;
            done.close();
          }),
        );
        entry.on(
          "data",
          guard((chunk: Buffer) => opened.write(chunk)),
        );
      }),
    );
    parser.on(
      "end",
      guard(() => {
        writer.finish();
        settle();
      }),
    );
  });
}
