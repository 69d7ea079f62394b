/**
 * Unpacks one OCI/Docker image layer (a tar stream, possibly gzip- or zstd-compressed) onto a directory,
 * applying the layer changeset rules: whiteouts delete what lower layers left in the directory, opaque
 * markers empty a directory of lower content, and an entry of another type replaces what it lands on.
 *
 * The layer is hostile until proven otherwise. Every path is resolved component by component inside the
 * target, the way openat2(RESOLVE_IN_ROOT) would: a symlink met on the way is followed with "/" meaning
 * the target and ".." stopping there, and the last component is never followed. Symlinks pointing
 * anywhere may be created (images are full of them), but nothing is ever created, written, chmod-ed,
 * chown-ed or deleted outside the target. Entries that climb out with ".." and hard links to
 * outside reject the whole layer with an "integrity" error.
 *
 * The tar package only parses (unpack/pump.ts); every write is done by unpack/writer.ts with synchronous
 * calls, which keeps entries in order without a promise per entry and is the fastest way to make many
 * small files in Bun. Paths are resolved inside the target by unpack/confined-tree.ts.
 */
import { closeSync, fstatSync, openSync, read, readSync, realpathSync, statSync } from "node:fs";
import { A3sError, fromSystemError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import type { GrowingFile } from "./unpack/growing-file.ts";
import { type LayerInput, pump } from "./unpack/pump.ts";
import { LayerWriter } from "./unpack/writer.ts";

const log = logger("box.unpack");

export type LayerCompression = "gzip" | "zstd" | "none";

export interface UnpackOptions {
  /** Sniffed from the first bytes of the blob when absent. */
  compression?: LayerCompression;
  /** chown entries to the uid/gid the layer names; default: when running as root. */
  preserveOwnership?: boolean;
  /** Create character and block devices (needs CAP_MKNOD); default: when running as root. FIFOs are always made. */
  allowDevices?: boolean;
  /**
   * "apply" (default): whiteouts delete what lower layers left in the target, for a flattened rootfs.
   * "overlay": the layer goes into a directory of its own, to be an overlayfs lower; whiteouts are kept
   * the way overlayfs reads them, a 0/0 character device per deleted path and trusted.overlay.opaque=y
   * on opaque directories.
   */
  whiteouts?: "apply" | "overlay";
  /** Called as the blob is read: compressed bytes read so far and the blob's size. */
  onProgress?: (current: number, total: number) => void;
  signal?: AbortSignal;
}

export interface UnpackResult {
  /** File system entries read from the layer, whiteouts and skipped ones included. */
  entries: number;
  /** Bytes of regular-file content written. */
  bytes: number;
  whiteouts: number;
  /** The layer's whiteouts as it names them: paths deleted, and directories made opaque. */
  whiteoutPaths: Array<{ path: string; opaque: boolean }>;
  skipped: Array<{ path: string; reason: string }>;
  /** sha256 of the uncompressed tar stream ("sha256:<hex>"): the layer's diff ID. */
  diffId: string;
}

export function detectCompression(firstBytes: Uint8Array): LayerCompression {
  const [a, b, c, d] = firstBytes;
  if (a === 0x1f && b === 0x8b) return "gzip";
  if (a === 0x28 && b === 0xb5 && c === 0x2f && d === 0xfd) return "zstd";
  return "none";
}

/** `source` is a blob file, or a blob still being downloaded (read as it grows). */
export async function unpackLayer(
  source: string | GrowingFile,
  target: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const started = performance.now();
  const root = layerRoot(target);
  const compression =
    options.compression ??
    (typeof source === "string" ? sniffCompression(source) : detectCompression(await source.head(4)));
  const asRoot = process.getuid?.() === 0;
  const writer = new LayerWriter(root, {
    preserveOwnership: options.preserveOwnership ?? asRoot,
    allowDevices: options.allowDevices ?? asRoot,
    overlay: options.whiteouts === "overlay",
  });
  const diffId = await pump(layerInput(source), compression, writer, options);
  const result = { ...writer.result, diffId };
  log.debug("unpacked layer", {
    source: typeof source === "string" ? source : "(downloading)",
    target,
    compression,
    entries: result.entries,
    bytes: result.bytes,
    whiteouts: result.whiteouts,
    skipped: result.skipped.length,
    ms: Math.round(performance.now() - started),
  });
  return result;
}

function layerInput(source: string | GrowingFile): LayerInput {
  return typeof source === "string" ? fileInput(source) : source;
}

/** A blob file read with the thread pool; closed once no read is in flight, so no read meets a reused fd. */
function fileInput(path: string): LayerInput {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw fromSystemError(err, `layer ${path}`);
  }
  let position = 0;
  let reading = false;
  let closed = false;
  const release = () => {
    if (closed && !reading) closeSync(fd);
  };
  return {
    size: fstatSync(fd).size,
    name: path,
    read: (buffer) =>
      new Promise((resolve, reject) => {
        reading = true;
        read(fd, buffer, 0, buffer.length, position, (err, bytes) => {
          reading = false;
          release();
          if (err) return reject(err);
          position += bytes;
          resolve(bytes);
        });
      }),
    close: () => {
      if (closed) return;
      closed = true;
      release();
    },
  };
}

function layerRoot(target: string): string {
  let root: string;
  try {
    root = realpathSync(target);
  } catch (err) {
    throw fromSystemError(err, `layer target ${target}`);
  }
  if (!statSync(root).isDirectory()) throw new A3sError("usage", `layer target ${target} is not a directory`);
  return root;
}

function sniffCompression(source: string): LayerCompression {
  const head = new Uint8Array(4);
  let fd: number;
  try {
    fd = openSync(source, "r");
  } catch (err) {
    throw fromSystemError(err, `layer ${source}`);
  }
  try {
    const n = readSync(fd, head, 0, head.length, 0);
    return detectCompression(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
