/**
 * The initramfs a3s boots its microVMs with: nothing but the static init (native/init) and the
 * console device the kernel opens for it before it runs.
 */
import { newcArchive, S_IFCHR, S_IFDIR, S_IFREG } from "./cpio.ts";

export function initramfs(init: Uint8Array): Uint8Array {
  return newcArchive([
    { path: "dev", mode: S_IFDIR | 0o755 },
    { path: "dev/console", mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { path: "init", mode: S_IFREG | 0o755, data: init },
  ]);
}
