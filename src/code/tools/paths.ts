/**
 * Path confinement for the file tools: a path the model gives is resolved against the workspace and
 * must land, after following every symlink, inside the workspace or a directory added with --add-dir.
 */
import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext } from "../types.ts";

export type PathScope = Pick<ToolContext, "cwd" | "extraDirs"> & { env?: NodeJS.ProcessEnv };

/** Symlink hops followed before a chain is called a loop (Linux's own limit). */
const MAX_LINKS = 40;

export function expandHome(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME && env.HOME !== "" ? env.HOME : homedir();
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return path;
}

/** The absolute, normalised path; `..` is resolved lexically, so it is also what the tools open. */
export function absolutePath(path: string, cwd: string, env?: NodeJS.ProcessEnv): string {
  return resolve(cwd, expandHome(path, env));
}

export function isWithin(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Where a path really points: the realpath of its longest existing prefix with the rest appended.
 * A dangling symlink is followed by hand, since writing through it would create its target.
 */
export function realPathOf(path: string): string {
  let current = path;
  const rest: string[] = [];
  for (let hops = 0; hops <= MAX_LINKS; ) {
    try {
      return join(realpathSync(current), ...rest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ELOOP") break;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
    }
    const link = symlinkTarget(current);
    if (link !== undefined) {
      hops++;
      current = resolve(dirname(current), link);
      continue;
    }
    const parent = dirname(current);
    if (parent === current) return join(current, ...rest);
    rest.unshift(basename(current));
    current = parent;
  }
  throw new A3sError("runtime", `${path}: too many levels of symbolic links`);
}

function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** The workspace and the added directories, absolute (relative --add-dir values are taken from cwd). */
export function allowedRoots(scope: PathScope): string[] {
  return [scope.cwd, ...scope.extraDirs.map((dir) => absolutePath(dir, scope.cwd, scope.env))];
}

/**
 * Resolves a path the model gave and checks it stays inside the allowed roots, through symlinks
 * too. Returns the absolute path to operate on; throws a permission error naming the roots.
 */
export function confine(path: string, scope: PathScope): string {
  if (path.trim() === "") throw new A3sError("usage", "the path is empty");
  const absolute = absolutePath(path, scope.cwd, scope.env);
  const real = realPathOf(absolute);
  const roots = allowedRoots(scope);
  if (roots.some((root) => isWithin(real, realPathOf(root)))) return absolute;
  const via = real === absolute ? "" : ` (through a symlink it resolves to ${real})`;
  throw new A3sError("permission", `${path} is outside the workspace${via}; allowed: ${roots.join(", ")}`, {
    hint: "use a path inside the workspace, or start a3s code with --add-dir <dir>",
  });
}

/** How a path is shown to the model and matched by permission rules: relative inside the workspace. */
export function workspacePath(absolute: string, cwd: string): string {
  if (!isWithin(absolute, cwd)) return absolute;
  return relative(cwd, absolute) || ".";
}

/** A file tool's permission subject, from the raw path the model gave. */
export function pathSubject(path: string | undefined, cwd: string): string | undefined {
  if (path === undefined || path.trim() === "") return undefined;
  return workspacePath(absolutePath(path, cwd), cwd);
}
