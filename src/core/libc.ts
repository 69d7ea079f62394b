/**
 * The few Linux system calls Node's fs lacks, through bun:ffi: mknod (overlay whiteouts, device
 * nodes), lsetxattr (overlay opaque directories) and mount/umount2 (assembling a rootfs without
 * spawning mount(8), which costs milliseconds per box). Loaded on first use, Linux only.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { constants } from "node:os";

type Libc = ReturnType<typeof load>;
let libc: Libc | undefined;

function load() {
  return dlopen("libc.so.6", {
    mknod: { args: [FFIType.cstring, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
    lsetxattr: {
      args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32],
      returns: FFIType.i32,
    },
    mount: {
      args: [FFIType.cstring, FFIType.cstring, FFIType.cstring, FFIType.u64, FFIType.cstring],
      returns: FFIType.i32,
    },
    umount2: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

function sys(): Libc {
  if (process.platform !== "linux") {
    throw Object.assign(new Error(`system calls are only available on Linux, not ${process.platform}`), {
      code: "ENOSYS",
    });
  }
  libc ??= load();
  return libc;
}

const cString = (text: string) => Buffer.from(`${text}\0`);

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/** Throws a Node-style error (code EPERM, ENOENT…) when a call returned -1. */
function check(result: number, call: string, path: string): void {
  if (result !== -1) return;
  const errnoPointer = sys().__errno_location();
  const errno = errnoPointer === null ? 0 : read.i32(errnoPointer, 0);
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  throw Object.assign(new Error(`${call} ${path}: ${code}`), { code, errno, syscall: call, path });
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, device: bigint = 0n): void {
  check(sys().mknod(cString(path), mode, device), "mknod", path);
}

export function lsetxattr(path: string, name: string, value: string): void {
  const bytes = Buffer.from(value);
  check(sys().lsetxattr(cString(path), cString(name), ptr(bytes), bytes.length, 0), "lsetxattr", path);
}

export const MS_RDONLY = 1;
export const MS_BIND = 4096;
export const MNT_DETACH = 2;

export function mount(source: string, target: string, type: string, flags: number, data: string): void {
  check(sys().mount(cString(source), cString(target), cString(type), flags, cString(data)), "mount", target);
}

export function umount(target: string, flags = MNT_DETACH): void {
  check(sys().umount2(cString(target), flags), "umount2", target);
}
