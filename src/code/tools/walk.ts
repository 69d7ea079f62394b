/**
 * The file walk behind grep (without ripgrep), glob and ls: depth-first, sorted, honouring
 * .gitignore, never entering .git or following symlinks (a link could lead out of the workspace).
 */
import { type Dirent, readdirSync } from "node:fs";
import { join } from "node:path";
import { IgnoreStack } from "./ignore.ts";

export interface WalkEntry {
  path: string;
  name: string;
  dirent: Dirent;
  depth: number;
}

export interface WalkOptions {
  /** Return false to skip a directory's contents (the entry itself was already visited). */
  visit(entry: WalkEntry): unknown;
  /** Directories deeper than this are listed but not entered (1 = the root's entries only). */
  maxDepth?: number;
  /** Stops the walk when it returns true (a cap reached, an abort). */
  stop?: () => boolean;
}

export function walk(root: string, options: WalkOptions): void {
  const descend = (dir: string, ignore: IgnoreStack, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of entries) {
      if (options.stop?.()) return;
      if (dirent.name === ".git") continue;
      const path = join(dir, dirent.name);
      const isDir = dirent.isDirectory();
      if (ignore.ignores(path, isDir)) continue;
      const enter = options.visit({ path, name: dirent.name, dirent, depth });
      if (isDir && enter !== false && depth < (options.maxDepth ?? Number.POSITIVE_INFINITY)) {
        descend(path, ignore.enter(path), depth + 1);
      }
    }
  };
  descend(root, IgnoreStack.at(root), 1);
}
