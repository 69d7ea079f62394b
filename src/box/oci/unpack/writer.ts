/**
 * Applies a layer's entries to the target, one at a time and in archive order, by the layer
 * changeset rules: whiteouts delete what lower layers left (or, for an overlayfs lower, are kept as
 * overlayfs reads them), and an entry of another type replaces what it lands on. Every write is a
 * synchronous call, which keeps entries in order without a promise per entry.
 */
import {
  chmodSync,
  closeSync,
  constants,
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
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import type { ReadEntry } from "tar";
import { A3sError } from "../../../core/errors.ts";
import { lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../../core/libc.ts";
import type { UnpackResult } from "../unpack.ts";
import { ConfinedTree, cleanPath, join } from "./confined-tree.ts";
import { corrupt, hostile } from "./errors.ts";

const WHITEOUT_PREFIX = ".wh.";
const WHITEOUT_META_PREFIX = ".wh..wh.";
const WHITEOUT_OPAQUE = ".wh..wh..opq";
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = constants;

export interface FileSink {
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
export class LayerWriter {
  readonly result: Omit<UnpackResult, "diffId"> = {
    entries: 0,
    bytes: 0,
    whiteouts: 0,
    whiteoutPaths: [],
    skipped: [],
  };
  private readonly tree: ConfinedTree;
  /** Directory metadata, applied at the end so that writing children does not disturb mtimes or access. */
  private readonly dirMeta = new Map<string, DirMeta>();

  constructor(
    root: string,
    private readonly options: { preserveOwnership: boolean; allowDevices: boolean; overlay: boolean },
  ) {
    this.tree = new ConfinedTree(root);
  }

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
      if (!this.tree.isPlainDir(rel)) continue;
      let fd: number;
      try {
        fd = openSync(this.tree.abs(rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
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
    const { rel, abs } = this.tree.place(entry.path, parts, false);
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
    this.tree.markLayer(rel);
    if (expected > 0) return sink;
    sink.close();
    return undefined;
  }

  private directory(entry: ReadEntry, parts: string[]): void {
    const { rel, abs, isDir } = this.tree.place(entry.path, parts, true);
    if (!isDir) mkdirSync(abs, 0o755);
    this.tree.rememberDir(rel);
    this.tree.markLayer(rel);
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
    const { rel, abs } = this.tree.place(entry.path, parts, false);
    symlinkSync(linkpath, abs);
    this.tree.markLayer(rel);
    if (this.options.preserveOwnership) lchownSync(abs, entry.uid ?? 0, entry.gid ?? 0);
    if (entry.mtime) lutimesSync(abs, entry.atime ?? entry.mtime, entry.mtime);
  }

  /** A hard link's target is a path inside the layer root, resolved like any entry path; it must exist. */
  private hardlink(entry: ReadEntry, parts: string[]): void {
    const name = entry.path;
    const linkParts = cleanPath(entry.linkpath ?? "", name);
    const linkBase = linkParts[linkParts.length - 1];
    if (linkBase === undefined) throw hostile(`layer entry '${name}' is a hard link to the root directory`);
    const linkParent = this.tree.resolveDir(linkParts.slice(0, -1), name, false);
    const targetRel = linkParent === undefined ? undefined : join(linkParent, linkBase);
    const targetStat =
      targetRel === undefined ? undefined : lstatSync(this.tree.abs(targetRel), { throwIfNoEntry: false });
    if (targetRel === undefined || targetStat === undefined) {
      throw hostile(`layer entry '${name}' is a hard link to '${entry.linkpath}', which is not in the layer`);
    }
    if (targetStat.isDirectory()) throw hostile(`layer entry '${name}' is a hard link to a directory`);
    const parent = this.tree.resolveDir(parts.slice(0, -1), name, true)!;
    if (join(parent, parts[parts.length - 1]!) === targetRel) return;
    const { rel, abs } = this.tree.place(name, parts, false);
    linkSync(this.tree.abs(targetRel), abs);
    this.tree.markLayer(rel);
  }

  private node(entry: ReadEntry, parts: string[]): void {
    const type = entry.type === "FIFO" ? S_IFIFO : entry.type === "BlockDevice" ? S_IFBLK : S_IFCHR;
    if (type !== S_IFIFO && !this.options.allowDevices) {
      this.result.skipped.push({ path: entry.path, reason: "device nodes need root" });
      return;
    }
    const { rel, abs } = this.tree.place(entry.path, parts, false);
    const device = type === S_IFIFO ? 0n : makedev(entry.header.devmaj ?? 0, entry.header.devmin ?? 0);
    try {
      mknod(abs, type | 0o600, device);
    } catch (err) {
      this.result.skipped.push({ path: entry.path, reason: `mknod failed: ${(err as Error).message}` });
      return;
    }
    this.tree.markLayer(rel);
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
      const dir = this.tree.existingDir(dirParts, name, overlay);
      if (dir === undefined) return;
      if (overlay)
        this.overlayMarker(name, () => lsetxattr(this.tree.abs(dir), "trusted.overlay.opaque", "y"));
      else for (const child of readdirSync(this.tree.abs(dir))) this.removeLower(join(dir, child));
      return;
    }
    const victim = base.slice(WHITEOUT_PREFIX.length);
    if (victim === "." || victim === ".." || victim === "") {
      throw hostile(`layer entry '${name}' is a whiteout of '${victim}'`);
    }
    this.result.whiteoutPaths.push({ path: [...dirParts, victim].join("/"), opaque: false });
    const dir = this.tree.resolveDir(dirParts, name, overlay);
    if (dir === undefined) return;
    if (!overlay) {
      this.removeLower(join(dir, victim));
      return;
    }
    // The layer's own entry wins over its whiteout of the same path.
    if (this.tree.inLayer(join(dir, victim))) return;
    const { abs } = this.tree.place(name, [...dirParts, victim], false);
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
    const abs = this.tree.abs(rel);
    const stat = lstatSync(abs, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (!this.tree.inLayer(rel)) {
      if (stat.isDirectory()) this.tree.removeTree(abs);
      else unlinkSync(abs);
      return;
    }
    if (stat.isDirectory()) for (const child of readdirSync(abs)) this.removeLower(`${rel}/${child}`);
  }
}

function entryError(err: unknown, name: string): A3sError {
  if (err instanceof A3sError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  const kind = code === "EACCES" || code === "EPERM" || code === "EROFS" ? "permission" : "runtime";
  return new A3sError(kind, `cannot unpack layer entry '${name}': ${detail}`, { cause: err });
}
