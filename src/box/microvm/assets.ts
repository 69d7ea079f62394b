/**
 * What a microVM needs from the host: QEMU, a3s's guest kernel, its init packed as an initramfs, and
 * an accelerator (KVM where it works, else TCG). Missing pieces are reported with the way to get them.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { initramfs } from "../../../native/init/initramfs.ts";
import { A3sError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import type { Paths } from "../../core/paths.ts";
import { probeKvm, realHost } from "../host.ts";
import type { VmAssets } from "../runtime/microvm.ts";
import { findKernel } from "./kernel.ts";

const QEMU_ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

/** The static guest init: in share/a3s beside the binary (releases, Homebrew), dist/native, or a checkout's. */
export function findInit(): string | undefined {
  const execDir = dirname(process.execPath);
  const candidates = [
    join(execDir, "share", "a3s", "init"),
    join(dirname(execDir), "share", "a3s", "init"),
    join(execDir, "native", "init"),
    join(dirname(Bun.main), "..", "dist", "native", "init"),
  ];
  return candidates.find((path) => existsSync(path));
}

/** The initramfs holding only /init, cached by the init binary's hash. */
export function initramfsFor(paths: Paths, init: string): string {
  const bytes = readFileSync(init);
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const target = join(paths.kernel, `initrd-${hash}.cpio`);
  if (!existsSync(target)) {
    writeFileAtomic(target, initramfs(bytes));
  }
  return target;
}

/** `A3S_KERNEL` names a vmlinux to boot instead of the one a3s finds (a custom or test kernel). */
export function findVmAssets(paths: Paths, env: NodeJS.ProcessEnv): VmAssets {
  const arch = QEMU_ARCH[process.arch];
  const qemu = arch ? Bun.which(`qemu-system-${arch}`) : null;
  if (!qemu) {
    throw new A3sError("runtime", `qemu-system-${arch ?? process.arch} is not installed`, {
      hint: "install QEMU (apt install qemu-system-x86) or use --isolation sandbox",
      exitCode: 125,
    });
  }
  if (env.A3S_KERNEL && !existsSync(env.A3S_KERNEL)) {
    throw new A3sError("not_found", `A3S_KERNEL names ${env.A3S_KERNEL}, which does not exist`, {
      exitCode: 125,
    });
  }
  const kernel = env.A3S_KERNEL || findKernel(paths);
  if (!kernel) {
    throw new A3sError("runtime", "no a3s guest kernel on this machine", {
      hint: "releases ship it next to the binary; from source: bun scripts/build-kernel.ts",
      exitCode: 125,
    });
  }
  const init = findInit();
  if (!init) {
    throw new A3sError("runtime", "the a3s guest init is missing", {
      hint: "build it: bun scripts/build-init.ts",
      exitCode: 125,
    });
  }
  const kvm = probeKvm(realHost(env));
  return { qemu, kernel, initrd: initramfsFor(paths, init), accelerator: kvm.usable ? "kvm" : "tcg" };
}
