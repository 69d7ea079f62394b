/**
 * A writer for cpio archives in the "newc" format, the one the Linux kernel unpacks as an
 * initramfs. Pure TypeScript, so the a3s binary can pack its guest's initramfs at run time.
 *
 * Each entry is a 110-byte ASCII header (magic 070701 and 13 fields of 8 hex digits), the NUL-
 * terminated name padded to 4 bytes, and the data padded to 4 bytes; "TRAILER!!!" ends the archive.
 */

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export interface CpioEntry {
  /** Path inside the archive; leading slashes are dropped ("/init" and "init" are the same). */
  path: string;
  /** Full st_mode; without file-type bits it means a regular file (0o755 = S_IFREG | 0o755). */
  mode: number;
  /** File contents, or a symbolic link's target; ignored for directories and devices. */
  data?: Uint8Array | string;
  /** Device number of a character or block device. */
  rdev?: { major: number; minor: number };
}

const HEADER_SIZE = 110;
const TRAILER = "TRAILER!!!";
const encoder = new TextEncoder();

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`cpio field out of range: ${value}`);
  return value.toString(16).padStart(8, "0");
}

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

function entryBytes(
  path: string,
  mode: number,
  ino: number,
  data: Uint8Array,
  rdev = { major: 0, minor: 0 },
): Uint8Array[] {
  const name = encoder.encode(`${path}\0`);
  const isDir = (mode & S_IFMT) === S_IFDIR;
  const fields = [
    ino,
    mode,
    0, // uid
    0, // gid
    isDir ? 2 : 1, // nlink: 1 keeps the kernel from looking for hard links
    0, // mtime: 0 keeps the archive reproducible
    data.length,
    0, // devmajor
    0, // devminor
    rdev.major,
    rdev.minor,
    name.length,
    0, // check: only for the "070702" variant
  ];
  const header = encoder.encode(`070701${fields.map(hex8).join("")}`);
  return [
    header,
    name,
    new Uint8Array(pad4(HEADER_SIZE + name.length)),
    data,
    new Uint8Array(pad4(data.length)),
  ];
}

function normalise(entry: CpioEntry): { path: string; mode: number; data: Uint8Array } {
  const path = entry.path.replace(/^\/+/, "").replace(/\/+$/, "");
  if (path === "" || path.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`cpio: bad path ${JSON.stringify(entry.path)}`);
  }
  const mode = (entry.mode & S_IFMT) === 0 ? S_IFREG | entry.mode : entry.mode;
  const type = mode & S_IFMT;
  const carriesData = type === S_IFREG || type === S_IFLNK;
  const raw = entry.data ?? new Uint8Array();
  const data = !carriesData ? new Uint8Array() : typeof raw === "string" ? encoder.encode(raw) : raw;
  return { path, mode, data };
}

/**
 * Packs `files` in order. The kernel creates no missing parent directories, so every parent must
 * appear (as a directory entry) before what it contains; this is checked.
 */
export function newcArchive(files: CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const directories = new Set<string>();
  files.forEach((file, index) => {
    const { path, mode, data } = normalise(file);
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (parent !== "" && !directories.has(parent)) {
      throw new Error(`cpio: ${path} comes before its directory ${parent}`);
    }
    if ((mode & S_IFMT) === S_IFDIR) directories.add(path);
    chunks.push(...entryBytes(path, mode, index + 1, data, file.rdev));
  });
  chunks.push(...entryBytes(TRAILER, 0, 0, new Uint8Array()));
  const archive = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    archive.set(chunk, offset);
    offset += chunk.length;
  }
  return archive;
}
