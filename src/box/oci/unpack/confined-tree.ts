/**
 * The unpack target as a layer's entries see it: every path is resolved component by component
 * inside the root, the way openat2(RESOLVE_IN_ROOT) would, so that nothing is ever created or removed
 * outside it. It also remembers which paths the current layer wrote, which whiteouts must spare.
 */
import { lstatSync, mkdirSync, readlinkSync, rmSync, unlinkSync } from "node:fs";
import { hostile } from "./errors.ts";

const MAX_SYMLINK_HOPS = 40;

export class ConfinedTree {
  /** Paths (relative to the root) known to be real directories reached through real directories only. */
  private readonly knownDirs = new Set<string>();
  /** Resolved paths this layer wrote, with their ancestors: what opaque markers and whiteouts must spare. */
  private readonly layerPaths = new Set<string>();

  constructor(private readonly root: string) {}

  /**
   * Makes room for an entry: resolves its parent inside the root (creating missing directories) and
   * removes what is at its own path unless both are directories. The last component is never followed.
   */
  place(name: string, parts: string[], keepDir: boolean): { rel: string; abs: string; isDir: boolean } {
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
  resolveDir(parts: readonly string[], name: string, create: boolean): string | undefined {
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
  existingDir(parts: string[], name: string, create: boolean): string | undefined {
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
  isPlainDir(rel: string): boolean {
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

  /** Records that `rel` is a real directory the layer just made or kept, reached through directories only. */
  rememberDir(rel: string): void {
    this.knownDirs.add(rel);
  }

  /** rm -rf without following symlinks; any cached directory may be gone afterwards. */
  removeTree(abs: string): void {
    rmSync(abs, { recursive: true, force: true });
    this.knownDirs.clear();
  }

  /** Records that this layer wrote `rel`, and so everything on the way to it. */
  markLayer(rel: string): void {
    let path = rel;
    while (path !== "" && !this.layerPaths.has(path)) {
      this.layerPaths.add(path);
      const slash = path.lastIndexOf("/");
      path = slash < 0 ? "" : path.slice(0, slash);
    }
  }

  /** True when this layer wrote `rel` or something below it. */
  inLayer(rel: string): boolean {
    return this.layerPaths.has(rel);
  }

  abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }
}

export function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/**
 * Splits an archive path into components relative to the root: a leading "/" is dropped (Docker reads
 * absolute names as relative to the root), "." and empty components vanish, and ".." that would climb
 * above the root rejects the layer.
 */
export function cleanPath(path: string, entry: string): string[] {
  if (path.includes("\0")) throw hostile(`layer entry '${entry}' has a NUL byte in its path`);
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.pop() === undefined) throw hostile(`layer entry '${entry}' points outside the layer root`);
  }
  return parts;
}
