/**
 * `a3s box cp` in both directions, with Docker's rules for names (copy into an existing directory,
 * or to a new name; `dir/.` copies the contents). The box's filesystem is untrusted: paths in it are
 * resolved inside its root, and writes go through the layer unpacker, which never follows a symlink
 * out of the root.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import { A3sError } from "../core/errors.ts";
import { unpackLayer } from "./oci/unpack.ts";
import { resolveInRoot } from "./runtime/users.ts";

function noSuchPath(where: string, path: string): A3sError {
  return new A3sError("not_found", `Could not find the file ${path} in ${where}`);
}

/** Copies `boxPath` out of the box's root to `hostDest`. */
export function copyFromBox(rootfs: string, boxPath: string, hostDest: string, boxName: string): void {
  const contentsOnly = boxPath.endsWith("/.");
  const normalised = posix.normalize(posix.join("/", boxPath));
  const parent = resolveInRoot(rootfs, posix.dirname(normalised));
  const source = normalised === "/" ? rootfs : parent && join(parent, posix.basename(normalised));
  if (!source || (!existsSync(source) && !isSymlink(source))) throw noSuchPath(`box ${boxName}`, boxPath);
  const dest = resolve(hostDest);
  const sourceIsDir = !isSymlink(source) && statSync(source).isDirectory();
  let target = dest;
  if (existsSync(dest) && statSync(dest).isDirectory() && !contentsOnly)
    target = join(dest, basename(source));
  else if (!existsSync(dirname(dest)))
    throw new A3sError("not_found", `destination directory ${dirname(dest)} does not exist`);
  if (sourceIsDir) {
    // Symlinks inside the tree are copied as links, never followed: they point into the box's world.
    cpSync(source, target, {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
      force: true,
    });
  } else {
    cpSync(source, target, { verbatimSymlinks: true, preserveTimestamps: true, force: true });
  }
}

/** Copies `hostSource` into the box's root at `boxPath`. */
export async function copyToBox(
  rootfs: string,
  hostSource: string,
  boxPath: string,
  scratch: string,
): Promise<void> {
  const source = resolve(hostSource);
  if (!existsSync(source)) throw noSuchPath("the host", hostSource);
  const contentsOnly = hostSource.endsWith("/.");
  const normalised = posix.normalize(posix.join("/", boxPath));
  const existing = resolveInRoot(rootfs, normalised);
  let parent: string;
  let name: string;
  if (existing && statSync(existing).isDirectory()) {
    parent = existing;
    name = contentsOnly ? "" : basename(source);
  } else {
    const resolvedParent = resolveInRoot(rootfs, posix.dirname(normalised));
    if (!resolvedParent || !statSync(resolvedParent).isDirectory()) {
      throw new A3sError(
        "not_found",
        `destination directory ${posix.dirname(normalised)} does not exist in the box`,
      );
    }
    parent = resolvedParent;
    name = posix.basename(normalised);
  }
  mkdirSync(scratch, { recursive: true });
  const archive = join(mkdtempSync(join(scratch, "cp-")), "payload.tar");
  try {
    const entry = contentsOnly ? "." : basename(source);
    const { create: createTar } = await import("tar");
    await createTar({ file: archive, cwd: contentsOnly ? source : dirname(source), portable: false }, [
      entry,
    ]);
    if (name === "" || name === basename(source)) {
      await unpackLayer(archive, parent, { whiteouts: "apply" });
      return;
    }
    // A new name: unpack beside the destination, then move it into place in one rename.
    const staging = mkdtempSync(join(parent, ".a3s-cp-"));
    try {
      await unpackLayer(archive, staging, { whiteouts: "apply" });
      renameSync(join(staging, basename(source)), join(parent, name));
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  } finally {
    rmSync(dirname(archive), { recursive: true, force: true });
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
