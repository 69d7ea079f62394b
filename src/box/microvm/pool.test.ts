import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findWarm, listWarm, removeWarm, type WarmMeta, warmShape } from "./pool.ts";

const poolDir = mkdtempSync(join(tmpdir(), "a3s-pool-"));
afterAll(() => rmSync(poolDir, { recursive: true, force: true }));

function entry(key: string, state: Uint8Array, createdAt: string): WarmMeta {
  const meta: WarmMeta = {
    key,
    imageId: "sha256:aaa",
    imageRef: "busybox",
    memoryMiB: 256,
    cpus: 1,
    accelerator: "tcg",
    kernel: "/k/vmlinux",
    qemu: "/usr/bin/qemu-system-x86_64",
    stateBytes: state.length,
    stateXxh64: Bun.hash.xxHash64(state).toString(16).padStart(16, "0"),
    bootMs: 400,
    saveMs: 40,
    createdAt,
  };
  mkdirSync(join(poolDir, key), { recursive: true });
  writeFileSync(join(poolDir, key, "state"), state);
  writeFileSync(join(poolDir, key, "meta.json"), JSON.stringify(meta));
  return meta;
}

test("-m and --cpus as run reads them; 256 MiB and one vCPU by default", () => {
  expect(warmShape({})).toEqual({ memoryMiB: 256, cpus: 1 });
  expect(warmShape({ memory: "512m", cpus: "1.5" })).toEqual({ memoryMiB: 512, cpus: 2 });
  expect(() => warmShape({ memory: "lots" })).toThrow(/invalid memory size/);
});

test("entries are listed oldest first; staging directories and strays are not entries", () => {
  const state = new Uint8Array(4096).fill(7);
  entry("bbbbbbbbbbbbbbbb", state, "2025-02-01T00:00:00.000Z");
  entry("aaaaaaaaaaaaaaaa", state, "2025-01-01T00:00:00.000Z");
  mkdirSync(join(poolDir, ".warm-x1"));
  mkdirSync(join(poolDir, "cccccccccccccccc"));
  expect(listWarm(poolDir).map((meta) => meta.key)).toEqual(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
  expect(listWarm(join(poolDir, "nothing"))).toEqual([]);
});

test("a state is used only when its size and checksum are what warming wrote", () => {
  const state = new Uint8Array(8192).map((_, i) => i % 251);
  entry("1111111111111111", state, "2025-03-01T00:00:00.000Z");
  expect(findWarm(poolDir, "1111111111111111")).toMatchObject({ kind: "ready" });
  expect(findWarm(poolDir, "2222222222222222")).toEqual({ kind: "none" });

  const flipped = state.slice();
  flipped[100] = (flipped[100] ?? 0) ^ 1;
  writeFileSync(join(poolDir, "1111111111111111", "state"), flipped);
  expect(findWarm(poolDir, "1111111111111111")).toEqual({
    kind: "broken",
    reason: "its state file does not match its checksum",
  });
  truncateSync(join(poolDir, "1111111111111111", "state"), 100);
  expect(findWarm(poolDir, "1111111111111111")).toEqual({
    kind: "broken",
    reason: "its state file has 100 bytes instead of 8192",
  });
  rmSync(join(poolDir, "1111111111111111", "state"));
  expect(findWarm(poolDir, "1111111111111111")).toEqual({
    kind: "broken",
    reason: "its state file is missing",
  });
  writeFileSync(join(poolDir, "1111111111111111", "meta.json"), "{");
  expect(findWarm(poolDir, "1111111111111111")).toMatchObject({ kind: "broken" });
  removeWarm(poolDir, "1111111111111111");
  expect(findWarm(poolDir, "1111111111111111")).toEqual({ kind: "none" });
});
