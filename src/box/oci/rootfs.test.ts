import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { multiLayerWithWhiteouts, pushImage } from "../../../tests/fixtures/images.ts";
import { type Registry, startRegistry } from "../../../tests/fixtures/registry.ts";
import { pathsFor } from "../../core/paths.ts";
import { type BoxContext, openBoxContext } from "../context.ts";
import type { ImageRecord } from "./images.ts";
import { pullImage } from "./pull.ts";
import { assembleRootfs, destroyRootfs, overlaySupported } from "./rootfs.ts";

let registry: Registry;
let box: BoxContext;
let image: ImageRecord;

beforeAll(async () => {
  registry = await startRegistry();
  await pushImage(registry, "test/rootfs", "1", { layers: multiLayerWithWhiteouts() });
  box = openBoxContext(pathsFor(mkdtempSync(join(tmpdir(), "a3s-rootfs-"))), {});
  image = (await pullImage(box, { reference: `${registry.host}/test/rootfs:1` })).image;
});
afterAll(async () => {
  await registry?.stop();
});

function expectMergedTree(root: string): void {
  expect(readdirSync(join(root, "data")).sort()).toEqual(["b", "dir"]);
  expect(readdirSync(join(root, "data/dir"))).toEqual(["y"]);
  expect(readFileSync(join(root, "data/dir/y"), "utf8")).toBe("y\n");
  expect(existsSync(join(root, "bin/busybox"))).toBe(true);
}

test("overlay: layers merged with whiteouts applied, writes go to the box's own upper dir", async () => {
  if (!overlaySupported()) {
    console.warn("skipping the overlay rootfs test: needs root and overlayfs (tests run as root in CI)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "a3s-box-"));
  const rootfs = await assembleRootfs(box, image, dir, { mode: "overlay" });
  try {
    expect(rootfs.mode).toBe("overlay");
    expectMergedTree(rootfs.path);
    writeFileSync(join(rootfs.path, "data/b"), "changed\n");
    expect(readFileSync(join(dir, "upper/data/b"), "utf8")).toBe("changed\n");
    const lower = box.layers.path(image.layers[1]!.diffId);
    expect(readFileSync(join(lower, "data/b"), "utf8")).toBe("b\n");

    // A second box over the same layers sees none of the first one's changes.
    const other = mkdtempSync(join(tmpdir(), "a3s-box-"));
    const second = await assembleRootfs(box, image, other, { mode: "overlay" });
    expect(readFileSync(join(second.path, "data/b"), "utf8")).toBe("b\n");
    destroyRootfs(other);
  } finally {
    destroyRootfs(dir);
  }
  expect(existsSync(join(dir, "rootfs"))).toBe(false);
});

test("copy: the same tree without overlayfs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "a3s-box-"));
  const rootfs = await assembleRootfs(box, image, dir, { mode: "copy" });
  expect(rootfs.mode).toBe("copy");
  expectMergedTree(rootfs.path);
  destroyRootfs(dir);
});

test("a missing layer is reported, not half-assembled", async () => {
  const broken = {
    ...image,
    layers: [...image.layers, { ...image.layers[0]!, diffId: `sha256:${"0".repeat(64)}` }],
  };
  const dir = mkdtempSync(join(tmpdir(), "a3s-box-"));
  await expect(assembleRootfs(box, broken, dir)).rejects.toThrow(/not unpacked/);
});
