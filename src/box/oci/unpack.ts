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
 * The tar package only parses; every write is done here with synchronous calls, which keeps entries in
 * order without a promise per entry and is the fastest way to make many small files in Bun.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants,
  createReadStream,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { createGunzip, createZstdDecompress } from "node:zlib";
import type { ReadEntry } from "tar";
import { A3sError, fromSystemError } from "../../core/errors.ts";
import { lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../core/libc.ts";
import { logger } from "../../core/log.ts";

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

const WHITEOUT_PREFIX = ".wh.";
const WHITEOUT_META_PREFIX = ".wh..wh.";
const WHITEOUT_OPAQUE = ".wh..wh..opq";
const MAX_SYMLINK_HOPS = 40;
const READ_CHUNK = 1 << 20;
/** Decompressor output chunks: 16 KiB (the default) costs a third more time in per-chunk overhead. */
const DECODE_CHUNK = 1 << 17;
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = constants;

export function detectCompression(firstBytes: Uint8Array): LayerCompression {
  const [a, b, c, d] = firstBytes;
  if (a === 0x1f && b === 0x8b) return "gzip";
  if (a === 0x28 && b === 0xb5 && c === 0x2f && d === 0xfd) return "zstd";
  return "none";
}

export async function unpackLayer(
  source: string,
  target: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const started = performance.now();
  const root = layerRoot(target);
  const compression = options.compression ?? sniffCompression(source);
  const asRoot = process.getuid?.() === 0;
  const writer = new LayerWriter(root, {
    preserveOwnership: options.preserveOwnership ?? asRoot,
    allowDevices: options.allowDevices ?? asRoot,
    overlay: options.whiteouts === "overlay",
  });
  const diffId = await pump(source, compression, writer, options);
  const result = { ...writer.result, diffId };
  log.debug("unpacked layer", {
    source,
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

function corrupt(detail: string, cause?: unknown): A3sError {
  return new A3sError("integrity", `layer is truncated or corrupt: ${detail}`, {
    cause,
    hint: "pull the image again; the blob on disk does not match what the registry served",
  });
}

function hostile(message: string): A3sError {
  return new A3sError("integrity", message, {
    hint: "the image contains an unsafe layer and was not unpacked",
  });
}

/** The tar package, loaded when a layer is first unpacked rather than at every a3s start. */
async function loadTar(): Promise<typeof import("tar")> {
  return import("tar");
}

/** Streams file → decompressor → tar parser → writer, settling once: on the parser's end or the first failure. */
async function pump(
  source: string,
  compression: LayerCompression,
  writer: LayerWriter,
  { signal, onProgress }: UnpackOptions,
): Promise<string> {
  const { Parser } = await loadTar();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new A3sError("interrupted", "unpacking the layer was interrupted"));
    const input = createReadStream(source, { highWaterMark: READ_CHUNK });
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

    input.on("error", (err) => settle(fromSystemError(err, `layer ${source}`)));
    if (onProgress) {
      const total = statSync(source, { throwIfNoEntry: false })?.size ?? 0;
      let read = 0;
      input.on(
        "data",
        guard((chunk: Buffer) => {
          read += chunk.length;
          onProgress(read, total);
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

interface FileSink {
  write(chunk: Uint8Array): void;
  close(): void;
  abandon(): void;
}

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  atime: Date | undefined;
  mtime: Date | undefined;
}

/** Applies entries to the root, one at a time, in archive order. */
class LayerWriter {
  readonly result: Omit<UnpackResult, "diffId"> = {
    entries: 0,
    bytes: 0,
    whiteouts: 0,
    whiteoutPaths: [],
    skipped: [],
  };
  /** Paths (relative to the root) known to be real directories reached through real directories only. */
  private readonly knownDirs = new Set<string>();
  /** Resolved paths this layer wrote, with their ancestors: what opaque markers and whiteouts must spare. */
  private readonly layerPaths = new Set<string>();
  /** Directory metadata, applied at the end so that writing children does not disturb mtimes or access. */
  private readonly dirMeta = new Map<string, DirMeta>();

  constructor(
    private readonly root: string,
    private readonly options: { preserveOwnership: boolean; allowDevices: boolean; overlay: boolean },
  ) {}

  /** Applies an entry; for a regular file with content, returns where its data goes. */
  begin(entry: ReadEntry): FileSink | undefined {
    this.result.entries++;
    const name = entry.path;
    try {
      const parts = cleanPath(name, name);
      const base = parts[parts.length - 1];
      if (base === undefined) {
        if (entry.type === "Directory") return undefined;
        throw hostile(`layer entry '${name}' would replace the root directory`);
      }
      if (base.startsWith(WHITEOUT_PREFIX)) {
        this.whiteout(name, parts, base);
        return undefined;
      }
      switch (entry.type) {
        case "File":
        case "OldFile":
        case "ContiguousFile":
          return this.file(entry, parts);
        case "Directory":
        case "GNUDumpDir":
          this.directory(entry, parts);
          return undefined;
        case "SymbolicLink":
          this.symlink(entry, parts);
          return undefined;
        case "Link":
          this.hardlink(entry, parts);
          return undefined;
        case "CharacterDevice":
        case "BlockDevice":
        case "FIFO":
          this.node(entry, parts);
          return undefined;
        default:
          this.result.skipped.push({ path: name, reason: `unsupported entry type ${entry.type}` });
          return undefined;
      }
    } catch (err) {
      throw entryError(err, name);
    }
  }

  /** Sets the metadata of the layer's directories, in reverse archive order so children precede parents. */
  finish(): void {
    const dirs = [...this.dirMeta].reverse();
    for (const [rel, meta] of dirs) {
      if (!this.isPlainDir(rel)) continue;
      let fd: number;
      try {
        fd = openSync(this.abs(rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (err) {
        this.result.skipped.push({ path: rel, reason: `metadata not applied: ${(err as Error).message}` });
        continue;
      }
      try {
        if (this.options.preserveOwnership) fchownSync(fd, meta.uid, meta.gid);
        fchmodSync(fd, meta.mode);
        if (meta.mtime) futimesSync(fd, meta.atime ?? meta.mtime, meta.mtime);
      } catch (err) {
        this.result.skipped.push({ path: rel, reason: `metadata not applied: ${(err as Error).message}` });
      } finally {
        closeSync(fd);
      }
    }
  }

  private file(entry: ReadEntry, parts: string[]): FileSink | undefined {
    const { rel, abs } = this.place(entry.path, parts, false);
    const fd = openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    const expected = entry.size;
    let written = 0;
    let open = true;
    const sink: FileSink = {
      write: (chunk) => {
        let offset = 0;
        while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
        written += chunk.length;
      },
      close: () => {
        open = false;
        try {
          if (written !== expected) throw corrupt(`'${entry.path}' has ${written} of ${expected} bytes`);
          // chown before chmod: chown clears setuid and setgid bits.
          if (this.options.preserveOwnership) fchownSync(fd, entry.uid ?? 0, entry.gid ?? 0);
          fchmodSync(fd, entry.mode ?? 0o644);
          if (entry.mtime) futimesSync(fd, entry.atime ?? entry.mtime, entry.mtime);
        } finally {
          closeSync(fd);
        }
        this.result.bytes += written;
      },
      abandon: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
    this.markLayer(rel);
    if (expected > 0) return sink;
    sink.close();
    return undefined;
  }

  private directory(entry: ReadEntry, parts: string[]): void {
    const { rel, abs, isDir } = this.place(entry.path, parts, true);
    if (!isDir) mkdirSync(abs, 0o755);
    this.knownDirs.add(rel);
    this.markLayer(rel);
    this.dirMeta.set(rel, {
      mode: entry.mode ?? 0o755,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      atime: entry.atime,
      mtime: entry.mtime,
    });
  }

  private symlink(entry: ReadEntry, parts: string[]): void {
    const linkpath = entry.linkpath ?? "";
    if (linkpath.includes("\0"))
      throw hostile(`layer entry '${entry.path}' has a NUL byte in its link target`);
    const { rel, abs } = this.place(entry.path, parts, false);
    symlinkSync(linkpath, abs);
    this.markLayer(rel);
    if (this.options.preserveOwnership) lchownSync(abs, entry.uid ?? 0, entry.gid ?? 0);
    if (entry.mtime) lutimesSync(abs, entry.atime ?? entry.mtime, entry.mtime);
  }

  /** A hard link's target is a path inside the layer root, resolved like any entry path; it must exist. */
  private hardlink(entry: ReadEntry, parts: string[]): void {
    const name = entry.path;
    const linkParts = cleanPath(entry.linkpath ?? "", name);
    const linkBase = linkParts[linkParts.length - 1];
    if (linkBase === undefined) throw hostile(`layer entry '${name}' is a hard link to the root directory`);
    const linkParent = this.resolveDir(linkParts.slice(0, -1), name, false);
    const targetRel = linkParent === undefined ? undefined : join(linkParent, linkBase);
    const targetStat =
      targetRel === undefined ? undefined : lstatSync(this.abs(targetRel), { throwIfNoEntry: false });
    if (targetRel === undefined || targetStat === undefined) {
      throw hostile(`layer entry '${name}' is a hard link to '${entry.linkpath}', which is not in the layer`);
    }
    if (targetStat.isDirectory()) throw hostile(`layer entry '${name}' is a hard link to a directory`);
    const parent = this.resolveDir(parts.slice(0, -1), name, true)!;
    if (join(parent, parts[parts.length - 1]!) === targetRel) return;
    const { rel, abs } = this.place(name, parts, false);
    linkSync(this.abs(targetRel), abs);
    this.markLayer(rel);
  }

  private node(entry: ReadEntry, parts: string[]): void {
    const type = entry.type === "FIFO" ? S_IFIFO : entry.type === "BlockDevice" ? S_IFBLK : S_IFCHR;
    if (type !== S_IFIFO && !this.options.allowDevices) {
      this.result.skipped.push({ path: entry.path, reason: "device nodes need root" });
      return;
    }
    const { rel, abs } = this.place(entry.path, parts, false);
    const device = type === S_IFIFO ? 0n : makedev(entry.header.devmaj ?? 0, entry.header.devmin ?? 0);
    try {
      mknod(abs, type | 0o600, device);
    } catch (err) {
      this.result.skipped.push({ path: entry.path, reason: `mknod failed: ${(err as Error).message}` });
      return;
    }
    this.markLayer(rel);
    if (this.options.preserveOwnership) lchownSync(abs, entry.uid ?? 0, entry.gid ?? 0);
    chmodSync(abs, entry.mode ?? 0o644); // a node we just made, not a symlink
    if (entry.mtime) lutimesSync(abs, entry.atime ?? entry.mtime, entry.mtime);
  }

  private whiteout(name: string, parts: string[], base: string): void {
    if (base !== WHITEOUT_OPAQUE && base.startsWith(WHITEOUT_META_PREFIX)) {
      this.result.skipped.push({ path: name, reason: "AUFS metadata" });
      return;
    }
    const dirParts = parts.slice(0, -1);
    const overlay = this.options.overlay;
    this.result.whiteouts++;
    if (base === WHITEOUT_OPAQUE) {
      this.result.whiteoutPaths.push({ path: dirParts.join("/"), opaque: true });
      const dir = this.existingDir(dirParts, name, overlay);
      if (dir === undefined) return;
      if (overlay) this.overlayMarker(name, () => lsetxattr(this.abs(dir), "trusted.overlay.opaque", "y"));
      else for (const child of readdirSync(this.abs(dir))) this.removeLower(join(dir, child));
      return;
    }
    const victim = base.slice(WHITEOUT_PREFIX.length);
    if (victim === "." || victim === ".." || victim === "") {
      throw hostile(`layer entry '${name}' is a whiteout of '${victim}'`);
    }
    this.result.whiteoutPaths.push({ path: [...dirParts, victim].join("/"), opaque: false });
    const dir = this.resolveDir(dirParts, name, overlay);
    if (dir === undefined) return;
    if (!overlay) {
      this.removeLower(join(dir, victim));
      return;
    }
    // The layer's own entry wins over its whiteout of the same path.
    if (this.layerPaths.has(join(dir, victim))) return;
    const { abs } = this.place(name, [...dirParts, victim], false);
    this.overlayMarker(name, () => mknod(abs, S_IFCHR, 0n));
  }

  /**
   * Overlay markers need privileges (trusted.* xattrs need CAP_SYS_ADMIN; 0/0 devices need Linux 5.8
   * or CAP_MKNOD). Without them the layer is still usable flattened, so a failure is a skip, not an error.
   */
  private overlayMarker(name: string, make: () => void): void {
    try {
      make();
    } catch (err) {
      this.result.skipped.push({
        path: name,
        reason: `overlay whiteout not made: ${(err as Error).message}`,
      });
    }
  }

  /** Removes what lower layers left at `rel`, keeping whatever this layer wrote there. */
  private removeLower(rel: string): void {
    const abs = this.abs(rel);
    const stat = lstatSync(abs, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (!this.layerPaths.has(rel)) {
      if (stat.isDirectory()) this.removeTree(abs);
      else unlinkSync(abs);
      return;
    }
    if (stat.isDirectory()) for (const child of readdirSync(abs)) this.removeLower(`${rel}/${child}`);
  }

  /**
   * Makes room for an entry: resolves its parent inside the root (creating missing directories) and
   * removes what is at its own path unless both are directories. The last component is never followed.
   */
  private place(
    name: string,
    parts: string[],
    keepDir: boolean,
  ): { rel: string; abs: string; isDir: boolean } {
    const parent = this.resolveDir(parts.slice(0, -1), name, true)!;
    const rel = join(parent, parts[parts.length - 1]!);
    const abs = this.abs(rel);
    const stat = lstatSync(abs, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      if (keepDir) return { rel, abs, isDir: true };
      this.removeTree(abs);
    } else if (stat) {
      unlinkSync(abs);
    }
    return { rel, abs, isDir: false };
  }

  /**
   * Resolves `parts` as a directory inside the root, like openat2(RESOLVE_IN_ROOT): a symlink in any
   * component is followed with "/" meaning the root and ".." stopping there. A missing directory is
   * created when `create`; otherwise the answer is undefined, as it is when a component is not a directory.
   */
  private resolveDir(parts: readonly string[], name: string, create: boolean): string | undefined {
    const lexical = parts.join("/");
    if (lexical === "" || this.knownDirs.has(lexical)) return lexical;
    const pending = [...parts].reverse();
    const resolved: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.pop()!;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        resolved.pop();
        continue;
      }
      resolved.push(part);
      const rel = resolved.join("/");
      if (this.knownDirs.has(rel)) continue;
      const abs = this.abs(rel);
      const stat = lstatSync(abs, { throwIfNoEntry: false });
      if (stat === undefined) {
        if (!create) return undefined;
        mkdirSync(abs, 0o755);
        this.markLayer(rel);
      } else if (stat.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS)
          throw hostile(`layer entry '${name}': too many levels of symbolic links`);
        resolved.pop();
        const link = readlinkSync(abs);
        if (link.startsWith("/")) resolved.length = 0;
        pending.push(...link.split("/").reverse());
        continue;
      } else if (!stat.isDirectory()) {
        if (!create) return undefined;
        throw hostile(`layer entry '${name}' needs '${rel}' to be a directory, and it is not`);
      }
      this.knownDirs.add(rel);
    }
    return resolved.join("/");
  }

  /**
   * The directory at `parts`, its last component not followed (as Docker walks an opaque directory);
   * with `create`, made when missing.
   */
  private existingDir(parts: string[], name: string, create: boolean): string | undefined {
    const last = parts[parts.length - 1];
    if (last === undefined) return "";
    const parent = this.resolveDir(parts.slice(0, -1), name, create);
    if (parent === undefined) return undefined;
    const rel = join(parent, last);
    const stat = lstatSync(this.abs(rel), { throwIfNoEntry: false });
    if (stat === undefined && create) {
      mkdirSync(this.abs(rel), 0o755);
      this.markLayer(rel);
      return rel;
    }
    return stat?.isDirectory() ? rel : undefined;
  }

  /** True when `rel` is a directory reached from the root through directories only. */
  private isPlainDir(rel: string): boolean {
    if (rel === "" || this.knownDirs.has(rel)) return true;
    let path = "";
    for (const part of rel.split("/")) {
      path = join(path, part);
      if (this.knownDirs.has(path)) continue;
      const stat = lstatSync(this.abs(path), { throwIfNoEntry: false });
      if (!stat?.isDirectory()) return false;
      this.knownDirs.add(path);
    }
    return true;
  }

  /** rm -rf without following symlinks; any cached directory may be gone afterwards. */
  private removeTree(abs: string): void {
    rmSync(abs, { recursive: true, force: true });
    this.knownDirs.clear();
  }

  private markLayer(rel: string): void {
    let path = rel;
    while (path !== "" && !this.layerPaths.has(path)) {
      this.layerPaths.add(path);
      const slash = path.lastIndexOf("/");
      path = slash < 0 ? "" : path.slice(0, slash);
    }
  }

  private abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/**
 * Splits an archive path into components relative to the root: a leading "/" is dropped (Docker reads
 * absolute names as relative to the root), "." and empty components vanish, and ".." that would climb
 * above the root rejects the layer.
 */
function cleanPath(path: string, entry: string): string[] {
  if (path.includes("\0")) throw hostile(`layer entry '${entry}' has a NUL byte in its path`);
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.pop() === undefined) throw hostile(`layer entry '${entry}' points outside the layer root`);
  }
  return parts;
}

function entryError(err: unknown, name: string): A3sError {
  if (err instanceof A3sError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  const kind = code === "EACCES" || code === "EPERM" || code === "EROFS" ? "permission" : "runtime";
  return new A3sError(kind, `cannot unpack layer entry '${name}': ${detail}`, { cause: err });
}

/**
 * Walks zstd frame and block headers (never their contents) to tell whether the stream stopped at a
 * frame boundary: the zstd decoder in Bun ends quietly on truncated input.
 */
class ZstdFrames {
  private state: "magic" | "skippable" | "descriptor" | "block" = "magic";
  private head: number[] = [];
  private need = 4;
  private skip = 0;
  private checksum = false;
  private broken = false;

  get complete(): boolean {
    return !this.broken && this.state === "magic" && this.head.length === 0 && this.skip === 0;
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.head.push(chunk[i++]!);
      if (this.head.length === this.need) {
        const head = this.head;
        this.head = [];
        this.step(head);
      }
    }
  }

  private step(h: number[]): void {
    const le = h.reduce((value, byte, index) => value + byte * 2 ** (8 * index), 0);
    switch (this.state) {
      case "magic":
        if (le === 0xfd2fb528) this.expect("descriptor", 1);
        else if (le >= 0x184d2a50 && le <= 0x184d2a5f) this.expect("skippable", 4);
        else this.broken = true;
        return;
      case "skippable":
        this.skip = le;
        this.expect("magic", 4);
        return;
      case "descriptor": {
        const singleSegment = (le >> 5) & 1;
        this.checksum = ((le >> 2) & 1) === 1;
        const dictionary = [0, 1, 2, 4][le & 3]!;
        const contentSize = [singleSegment, 2, 4, 8][le >> 6]!;
        this.skip = (singleSegment ? 0 : 1) + dictionary + contentSize;
        this.expect("block", 3);
        return;
      }
      case "block": {
        const type = (le >> 1) & 3;
        if (type === 3) this.broken = true;
        this.skip = type === 1 ? 1 : le >>> 3;
        if ((le & 1) === 1) {
          this.skip += this.checksum ? 4 : 0;
          this.expect("magic", 4);
        }
        return;
      }
    }
  }

  private expect(state: ZstdFrames["state"], bytes: number): void {
    this.state = state;
    this.need = bytes;
  }
}
