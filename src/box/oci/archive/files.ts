/**
 * The files load and import read: an archive or tarball named by path, or a stream (such as stdin)
 * spooled into a scratch directory first, and the compression a tarball is in.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { A3sError, fromSystemError } from "../../../core/errors.ts";
import type { BoxContext } from "../../context.ts";
import { detectCompression, type LayerCompression } from "../unpack.ts";
import { interrupted } from "./errors.ts";

/** Files are streamed in chunks of this size. */
export const READ_CHUNK = 1 << 20;

export type ArchiveInput = string | AsyncIterable<Uint8Array>;

export function scratch(box: BoxContext, prefix: string): string {
  mkdirSync(box.paths.tmp, { recursive: true });
  return mkdtempSync(join(box.paths.tmp, prefix));
}

export function existing(path: string): string {
  try {
    if (!statSync(path).isFile()) throw new A3sError("usage", `${path} is not a file`);
  } catch (err) {
    if (err instanceof A3sError) throw err;
    throw fromSystemError(err, path);
  }
  return path;
}

export async function spool(
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

/** The layer compression of a file; xz and bzip2 (which Docker also reads) are refused clearly. */
export function sniff(file: string): LayerCompression {
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
