import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VmAssets } from "../runtime/microvm.ts";
import { WARM_SHARES, type WarmKeyInput, warmKey, warmKeyInput, warmVmConfig } from "./pool-key.ts";

const dir = mkdtempSync(join(tmpdir(), "a3s-poolkey-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const assets: VmAssets = {
  qemu: file("qemu", "qemu 7.2"),
  kernel: file("vmlinux", "kernel"),
  initrd: file("initrd-0123456789abcdef.cpio", "initrd"),
  accelerator: "tcg",
};
const shape = { memoryMiB: 256, cpus: 1 };

test("the key is stable, 16 hex digits, and changes with everything a restore must match", () => {
  const input = warmKeyInput(assets, "sha256:aaa", shape);
  const key = warmKey(input);
  expect(key).toMatch(/^[0-9a-f]{16}$/);
  expect(warmKey(warmKeyInput(assets, "sha256:aaa", shape))).toBe(key);
  const variants: Array<Partial<WarmKeyInput>> = [
    { imageId: "sha256:bbb" },
    { memoryMiB: 512 },
    { cpus: 2 },
    { accelerator: "kvm" },
    { initrd: "initrd-fedcba9876543210.cpio" },
    { kernel: { ...input.kernel, mtimeMs: input.kernel.mtimeMs + 1000 } },
    { qemu: { ...input.qemu, size: input.qemu.size + 1 } },
    { machine: [...input.machine, "-device", "something"] },
  ];
  const keys = new Set(variants.map((variant) => warmKey({ ...input, ...variant })));
  expect(keys.size).toBe(variants.length);
  expect(keys.has(key)).toBe(false);
});

test("the shape and the accelerator reach the machine line; per-box paths and the TSC rate do not", () => {
  const input = warmKeyInput(assets, "sha256:aaa", shape);
  expect(input.machine).toContain("256");
  expect(input.machine).toContain("tcg");
  expect(input.machine.join(" ")).not.toMatch(/tsc_early_khz/);
  expect(input.machine.join(" ")).toContain("<rootfs>");
  expect(warmKeyInput({ ...assets, accelerator: "kvm" }, "sha256:aaa", shape).machine).toContain("kvm");
});

test("a new kernel file (or QEMU) makes a new key", () => {
  const before = warmKey(warmKeyInput(assets, "sha256:aaa", shape));
  writeFileSync(assets.kernel, "another kernel");
  utimesSync(assets.kernel, new Date(), new Date(Date.now() + 5000));
  expect(warmKey(warmKeyInput(assets, "sha256:aaa", shape))).not.toBe(before);
});

test("a warm VM has a share for every volume a box can have, the box's first", () => {
  const config = warmVmConfig(
    assets,
    {
      rootfsImage: "/i/root.erofs",
      controlSocket: "/b/vm.sock",
      consoleLog: "/b/console.log",
      upperDisk: "/b/upper.ext4",
      shares: [{ tag: "vol0", source: "/host", destination: "/data", readOnly: false }],
      emptyDir: "/pool/.empty",
    },
    shape,
    2_000_000,
  );
  expect(config.shares).toHaveLength(WARM_SHARES);
  expect(config.shares[0]).toEqual({ tag: "vol0", source: "/host", destination: "/data", readOnly: false });
  expect(config.shares.slice(1).map((share) => [share.tag, share.source, share.readOnly])).toEqual(
    Array.from({ length: WARM_SHARES - 1 }, (_, i) => [`vol${i + 1}`, "/pool/.empty", true]),
  );
  expect(config).toMatchObject({ upperDisk: "/b/upper.ext4", memoryMiB: 256, cpus: 1, tscKhz: 2_000_000 });
});
