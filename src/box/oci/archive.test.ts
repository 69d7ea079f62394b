/**
 * save / load / import against real images pulled from a real registry, with skopeo as an
 * independent reader (and writer) of both archive formats.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sErrorAsync } from "../../../tests/expect-error.ts";
import {
  busyboxLayer,
  multiLayerWithWhiteouts,
  type PushedImage,
  pushImage,
} from "../../../tests/fixtures/images.ts";
import { type Registry, startRegistry } from "../../../tests/fixtures/registry.ts";
import { dir, file, symlink, tarArchive } from "../../../tests/fixtures/tar-builder.ts";
import { pathsFor } from "../../core/paths.ts";
import { type BoxContext, openBoxContext } from "../context.ts";
import { importRootfs, loadImages, parseChanges, saveImages } from "./archive.ts";
import { pullImage } from "./pull.ts";

let registry: Registry;
let source: BoxContext;
let busybox: PushedImage;
let layered: PushedImage;
let busyboxRef: string;
let layeredRef: string;
let archive: string;
const scratch = mkdtempSync(join(tmpdir(), "a3s-archive-test-"));

function newBox(): BoxContext {
  const home = mkdtempSync(join(scratch, "home-"));
  writeFileSync(join(home, "config.json"), "{}");
  return openBoxContext(pathsFor(home), {});
}

function run(cmd: string[]): { code: number; stdout: string; stderr: string } {
  const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

function skopeo(...args: string[]): string {
  const result = run(["skopeo", "--insecure-policy", ...args]);
  if (result.code !== 0) throw new Error(`skopeo ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

/** Unpacks a tar with the system tar, lets `change` edit the tree, and packs `members` again. */
function repack(from: string, change: (root: string) => void, members: string[]): string {
  const root = mkdtempSync(join(scratch, "repack-"));
  expect(run(["tar", "-xf", from, "-C", root]).code).toBe(0);
  change(root);
  const to = `${root}.tar`;
  expect(run(["tar", "-cf", to, "-C", root, ...members]).code).toBe(0);
  return to;
}

function nothingRecorded(box: BoxContext): void {
  expect(box.images.list()).toEqual([]);
  expect(box.blobs.list()).toEqual([]);
  expect(box.layers.list().complete).toEqual([]);
  expect(existsSync(box.paths.tmp) ? readdirSync(box.paths.tmp) : []).toEqual([]);
}

beforeAll(async () => {
  registry = await startRegistry();
  busybox = await pushImage(registry, "test/busybox", "1", {
    layers: [busyboxLayer()],
    config: { Cmd: ["sh"] },
  });
  layered = await pushImage(registry, "test/layers", "2", {
    layers: multiLayerWithWhiteouts(),
    format: "docker",
  });
  busyboxRef = `${registry.host}/test/busybox:1`;
  layeredRef = `${registry.host}/test/layers:2`;
  source = newBox();
  await pullImage(source, { reference: busyboxRef });
  await pullImage(source, { reference: layeredRef });
  archive = join(scratch, "saved.tar");
  await saveImages(source, [busyboxRef, layeredRef], archive);
});

afterAll(async () => {
  await registry?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("save", () => {
  test("one tar is both an OCI layout and a Docker archive", async () => {
    const root = mkdtempSync(join(scratch, "x-"));
    expect(run(["tar", "-xf", archive, "-C", root]).code).toBe(0);
    expect(JSON.parse(readFileSync(join(root, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    const index = JSON.parse(readFileSync(join(root, "index.json"), "utf8"));
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m: { annotations: unknown }) => m.annotations)).toEqual([
      { "io.containerd.image.name": busyboxRef, "org.opencontainers.image.ref.name": "1" },
      { "io.containerd.image.name": layeredRef, "org.opencontainers.image.ref.name": "2" },
    ]);
    // An OCI original is saved byte for byte (same digest); a Docker schema2 original becomes an
    // OCI manifest with a new digest (same image ID).
    expect(index.manifests[0].digest).toBe(busybox.manifestDigest);
    expect(index.manifests[1].digest).not.toBe(layered.manifestDigest);
    const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));
    expect(manifest).toEqual([
      {
        Config: `blobs/sha256/${busybox.configDigest.slice(7)}`,
        RepoTags: [busyboxRef],
        Layers: busybox.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      },
      {
        Config: `blobs/sha256/${layered.configDigest.slice(7)}`,
        RepoTags: [layeredRef],
        Layers: layered.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      },
    ]);
    // Every blob is there under its own digest; the shared busybox layer once.
    const blobs = readdirSync(join(root, "blobs/sha256"));
    for (const hex of blobs) {
      const bytes = readFileSync(join(root, "blobs/sha256", hex));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(hex);
    }
    expect(blobs.length).toBe(2 + 2 + 3); // two manifests, two configs, three distinct layers
    expect(statSync(join(root, "index.json")).mtimeMs).toBe(0);
  });

  test("skopeo reads it as an OCI archive and as a Docker archive", () => {
    const oci = JSON.parse(skopeo("inspect", `oci-archive:${archive}:1`));
    expect(oci.Digest).toBe(busybox.manifestDigest);
    expect(oci.Layers).toEqual(busybox.manifest.layers.map((l) => l.digest));
    const ociLayered = JSON.parse(skopeo("inspect", "--config", `oci-archive:${archive}:2`));
    expect(ociLayered.rootfs.diff_ids).toEqual(multiLayerWithWhiteouts().map((l) => l.diffId));

    const docker = JSON.parse(skopeo("inspect", `docker-archive:${archive}:${layeredRef}`));
    expect(docker.Layers.length).toBe(3);
    expect(docker.Architecture).toBe(layered.config.architecture as string);
    const dockerConfig = JSON.parse(skopeo("inspect", "--config", `docker-archive:${archive}:${busyboxRef}`));
    expect(dockerConfig.config.Cmd).toEqual(["sh"]);

    // A copy reads every blob and checks its digest, in both formats.
    skopeo("copy", `oci-archive:${archive}:2`, `dir:${join(scratch, "copy-oci")}`);
    skopeo("copy", `docker-archive:${archive}:${layeredRef}`, `dir:${join(scratch, "copy-docker")}`);
    expect(existsSync(join(scratch, "copy-docker", "manifest.json"))).toBe(true);
  });

  test("by ID untagged, a bare name with every tag of the repository", async () => {
    const box = newBox();
    await pullImage(box, { reference: busyboxRef });
    box.images.tag(busybox.configDigest, {
      registry: registry.host,
      repository: "test/busybox",
      tag: "extra",
    });
    const byName = await saveImages(box, [`${registry.host}/test/busybox`], join(scratch, "by-name.tar"));
    expect(byName.images).toEqual([
      {
        id: busybox.configDigest,
        tags: [busyboxRef, `${registry.host}/test/busybox:extra`],
        manifestDigest: busybox.manifestDigest,
      },
    ]);
    const byId = await saveImages(box, [busybox.configDigest.slice(7, 19)], join(scratch, "by-id.tar"));
    expect(byId.images[0]?.tags).toEqual([]);
    const loaded = await loadImages(newBox(), join(scratch, "by-id.tar"));
    expect(loaded).toEqual([{ id: busybox.configDigest }]);
  });

  test("unknown images fail before any file is written", async () => {
    const output = join(scratch, "never.tar");
    await expectA3sErrorAsync(saveImages(source, [busyboxRef, "nope:1"], output), "not_found", /nope:1/);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(scratch).filter((name) => name.includes("never"))).toEqual([]);
  });
});

describe("load", () => {
  test("a saved archive loads into a fresh home: same IDs, tags and layers", async () => {
    const box = newBox();
    const loaded = await loadImages(box, archive);
    expect(loaded).toEqual([
      { id: busybox.configDigest, reference: busyboxRef },
      { id: layered.configDigest, reference: layeredRef },
    ]);
    const first = box.images.resolve(busyboxRef)!;
    expect(first.id).toBe(busybox.configDigest);
    expect(first.manifestDigest).toBe(busybox.manifestDigest);
    expect(first.repoDigests).toEqual([]);
    expect(first.config.config?.Cmd).toEqual(["sh"]);
    const second = box.images.resolve(layeredRef)!;
    const pulled = source.images.get(layered.configDigest)!;
    expect(second.layers.map((l) => [l.digest, l.diffId])).toEqual(
      pulled.layers.map((l) => [l.digest, l.diffId]),
    );
    for (const layer of second.layers) {
      expect(box.blobs.has(layer.digest)).toBe(true);
      expect(box.layers.has(layer.diffId)).toBe(true);
    }
    expect(statSync(join(box.layers.path(first.layers[0]!.diffId), "bin/busybox")).mode & 0o777).toBe(0o755);
    expect(box.layers.info(second.layers[2]!.diffId)?.whiteouts).toEqual([
      { path: "data/a", opaque: false },
      { path: "data/dir", opaque: true },
    ]);
    expect(readdirSync(box.paths.tmp)).toEqual([]);

    // Saving again from the loaded home gives the very same bytes.
    const again = join(scratch, "again.tar");
    await saveImages(box, [busyboxRef, layeredRef], again);
    expect(readFileSync(again).equals(readFileSync(archive))).toBe(true);
  });

  test("from a stream, as from stdin", async () => {
    const box = newBox();
    const loaded = await loadImages(box, Bun.file(archive).stream());
    expect(loaded.map((l) => l.id)).toEqual([busybox.configDigest, layered.configDigest]);
  });

  test("the Docker side alone (manifest.json, compressed layers) loads the same", async () => {
    const dockerOnly = repack(archive, () => {}, ["manifest.json", "blobs"]);
    const box = newBox();
    const loaded = await loadImages(box, dockerOnly);
    expect(loaded).toEqual([
      { id: busybox.configDigest, reference: busyboxRef },
      { id: layered.configDigest, reference: layeredRef },
    ]);
    const image = box.images.resolve(layeredRef)!;
    expect(image.layers.map((l) => l.digest)).toEqual(layered.manifest.layers.map((l) => l.digest));
    expect(image.layers.every((l) => box.layers.has(l.diffId))).toBe(true);
  });

  test("archives made by skopeo: docker-archive (uncompressed layers) and oci-archive", async () => {
    const dockerArchive = join(scratch, "skopeo-docker.tar");
    skopeo(
      "copy",
      "--src-tls-verify=false",
      `docker://${layeredRef}`,
      `docker-archive:${dockerArchive}:other/name:tag`,
    );
    const ociArchive = join(scratch, "skopeo-oci.tar");
    skopeo(
      "copy",
      "--src-tls-verify=false",
      `docker://${busyboxRef}`,
      `oci-archive:${ociArchive}:mirror/bb:1`,
    );

    const box = newBox();
    expect(await loadImages(box, dockerArchive)).toEqual([
      { id: layered.configDigest, reference: "other/name:tag" },
    ]);
    const image = box.images.resolve("other/name:tag")!;
    expect(image.layers.length).toBe(3);
    expect(image.layers.map((l) => l.diffId)).toEqual(multiLayerWithWhiteouts().map((l) => l.diffId));
    expect(image.layers.every((l) => box.layers.has(l.diffId))).toBe(true);
    expect(box.layers.info(image.layers[2]!.diffId)?.whiteouts.length).toBe(2);

    expect(await loadImages(box, ociArchive)).toEqual([
      { id: busybox.configDigest, reference: "mirror/bb:1" },
    ]);
    expect(box.images.resolve("mirror/bb:1")?.layers[0]?.digest).toBe(busybox.manifest.layers[0]!.digest);
  });

  test("hostile archives are rejected and nothing is written outside", async () => {
    const outside = mkdtempSync(join(scratch, "outside-"));
    // A real blob outside the archive, which a symlinked blobs/sha256 would reach.
    const elsewhere = mkdtempSync(join(scratch, "elsewhere-"));
    const outsideBlob = new TextEncoder().encode("{}");
    const outsideDigest = `sha256:${createHash("sha256").update(outsideBlob).digest("hex")}`;
    writeFileSync(join(elsewhere, outsideDigest.slice(7)), outsideBlob);
    const config = readFileSync(source.blobs.path(busybox.configDigest));
    const manifest = (entry: Record<string, unknown>) => file("manifest.json", JSON.stringify([entry]));
    const cases: Array<[string, Uint8Array, RegExp]> = [
      [
        "manifest.json climbing out",
        tarArchive([manifest({ Config: "../../etc/passwd", RepoTags: ["x:1"], Layers: [] })]),
        /outside the archive/,
      ],
      [
        "manifest.json naming an absolute path",
        tarArchive([
          manifest({ Config: "c.json", RepoTags: null, Layers: ["/etc/passwd"] }),
          file("c.json", config),
        ]),
        /outside the archive/,
      ],
      [
        "a member that is a symlink out",
        tarArchive([manifest({ Config: "c.json", Layers: [] }), symlink("c.json", "/etc/passwd")]),
        /outside the archive/,
      ],
      [
        "a member behind a symlinked directory",
        tarArchive([manifest({ Config: "d/passwd", Layers: [] }), symlink("d", "/etc")]),
        /outside the archive/,
      ],
      [
        "a tar entry with ..",
        tarArchive([dir("blobs/"), file(`blobs/${"../".repeat(40)}${outside.slice(1)}/evil`, "x")]),
        /outside/,
      ],
      [
        "index.json pointing at a blob outside",
        tarArchive([
          file(
            "index.json",
            JSON.stringify({
              schemaVersion: 2,
              manifests: [
                {
                  mediaType: "application/vnd.oci.image.manifest.v1+json",
                  digest: outsideDigest,
                  size: 2,
                },
              ],
            }),
          ),
          dir("blobs/"),
          symlink("blobs/sha256", elsewhere),
        ]),
        /outside the archive/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(scratch, `hostile-${cases.findIndex((c) => c[0] === name)}.tar`);
      writeFileSync(path, bytes);
      const box = newBox();
      const err = await expectA3sErrorAsync(loadImages(box, path), "integrity");
      expect(`${name}: ${err.message}`).toMatch(message);
      nothingRecorded(box);
    }
    expect(readdirSync(outside)).toEqual([]);
  });

  test("a corrupted blob is an integrity error and nothing is recorded", async () => {
    const layerHex = busybox.manifest.layers[0]!.digest.slice(7);
    const flip = (path: string) => {
      const bytes = readFileSync(path);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      writeFileSync(path, bytes);
    };
    const corruptLayer = repack(archive, (root) => flip(join(root, "blobs/sha256", layerHex)), ["."]);
    const box = newBox();
    await expectA3sErrorAsync(loadImages(box, corruptLayer), "integrity", /corrupt/);
    nothingRecorded(box);
    expect(readdirSync(join(box.paths.images, "ingest"))).toEqual([]);

    // Docker side: a config whose content no longer matches its name.
    const configHex = layered.configDigest.slice(7);
    const corruptConfig = repack(
      archive,
      (root) => {
        const path = join(root, "blobs/sha256", configHex);
        writeFileSync(path, readFileSync(path, "utf8").replace('"os":"linux"', '"os":"Linux"'));
      },
      ["manifest.json", "blobs"],
    );
    const other = newBox();
    await expectA3sErrorAsync(loadImages(other, corruptConfig), "integrity", /corrupt/);
    nothingRecorded(other);
  });

  test("not an archive", async () => {
    const path = join(scratch, "empty.tar");
    writeFileSync(path, tarArchive([file("hello.txt", "hi")]));
    await expectA3sErrorAsync(loadImages(newBox(), path), "usage", /neither index.json nor manifest.json/);
    await expectA3sErrorAsync(loadImages(newBox(), join(scratch, "missing.tar")), "not_found");
  });
});

describe("import", () => {
  test("a rootfs tarball becomes a one-layer image with its files in the layer cache", async () => {
    const layer = busyboxLayer("gzip");
    const tarball = join(scratch, "rootfs.tar.gz");
    writeFileSync(tarball, layer.blob);
    const box = newBox();
    const result = await importRootfs(box, tarball, "imported:1", {
      message: "from a test",
      changes: [
        'CMD ["sh", "-c", "echo hi"]',
        'ENV A=1 B="two words"',
        "WORKDIR /data",
        "USER nobody",
        "LABEL x=y",
      ],
    });
    expect(result.reference).toBe("imported:1");
    const image = box.images.resolve("imported:1")!;
    expect(image.id).toBe(result.id);
    expect(image.layers).toEqual([
      {
        digest: layer.digest,
        diffId: layer.diffId,
        size: layer.size,
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      },
    ]);
    expect(image.repoDigests).toEqual([]);
    expect(image.config.config).toEqual({
      Cmd: ["sh", "-c", "echo hi"],
      Env: ["A=1", "B=two words"],
      WorkingDir: "/data",
      User: "nobody",
      Labels: { x: "y" },
    });
    expect(image.config.history).toEqual([{ created: image.created, comment: "from a test" }]);
    expect(createHash("sha256").update(box.blobs.read(image.id)).digest("hex")).toBe(image.id.slice(7));
    const fs = box.layers.path(layer.diffId);
    expect(statSync(join(fs, "bin/busybox")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(fs, "bin/sh")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(fs, "etc/passwd"), "utf8")).toStartWith("root:x:0:0");

    // Saved and loaded elsewhere, it stays the same image.
    const saved = join(scratch, "imported.tar");
    await saveImages(box, ["imported:1"], saved);
    expect(await loadImages(newBox(), saved)).toEqual([{ id: image.id, reference: "imported:1" }]);
  });

  test("from a stream, zstd, untagged", async () => {
    const layer = busyboxLayer("zstd");
    const box = newBox();
    const result = await importRootfs(box, new Blob([layer.blob]).stream());
    expect(result.reference).toBeUndefined();
    const image = box.images.get(result.id)!;
    expect(image.tags).toEqual([]);
    expect(image.layers[0]?.diffId).toBe(layer.diffId);
    expect(image.config.history?.[0]?.comment).toBe("Imported from -");
    expect(box.layers.has(layer.diffId)).toBe(true);
  });

  test("bad input is refused and leaves nothing behind", async () => {
    const box = newBox();
    const tarball = join(scratch, "busybox.tar");
    writeFileSync(tarball, busyboxLayer("none").blob);
    await expectA3sErrorAsync(importRootfs(box, tarball, "x", { changes: ["EXPOSE 80"] }), "usage", /EXPOSE/);
    await expectA3sErrorAsync(importRootfs(box, tarball, `x@sha256:${"a".repeat(64)}`), "usage", /digest/);
    const xz = join(scratch, "rootfs.tar.xz");
    writeFileSync(xz, new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
    await expectA3sErrorAsync(importRootfs(box, xz), "usage", /xz/);
    const truncated = join(scratch, "truncated.tar.gz");
    writeFileSync(truncated, busyboxLayer("gzip").blob.subarray(0, 5000));
    await expectA3sErrorAsync(importRootfs(box, truncated), "integrity");
    nothingRecorded(box);
  });

  test("--change parsing", () => {
    expect(
      parseChanges(["CMD echo hi", 'entrypoint ["/bin/sh"]', "ENV PATH /usr/bin:/bin", "LABEL a='b c' d=e"]),
    ).toEqual({
      Cmd: ["/bin/sh", "-c", "echo hi"],
      Entrypoint: ["/bin/sh"],
      Env: ["PATH=/usr/bin:/bin"],
      Labels: { a: "b c", d: "e" },
    });
    expect(() => parseChanges(["ENV =x"])).toThrow(/key=value/);
    expect(() => parseChanges(["USER"])).toThrow(/needs an argument/);
  });
});
