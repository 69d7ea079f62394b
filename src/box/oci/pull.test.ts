/**
 * Pulls from a real registry (Debian's docker-registry on loopback) into a real store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sErrorAsync } from "../../../tests/expect-error.ts";
import {
  buildLayer,
  busyboxLayer,
  hostPlatform,
  type Layer,
  largeImage,
  multiLayerWithWhiteouts,
  pushImage,
  pushIndex,
} from "../../../tests/fixtures/images.ts";
import { type Registry, startRegistry } from "../../../tests/fixtures/registry.ts";
import { pathsFor } from "../../core/paths.ts";
import { type BoxContext, openBoxContext } from "../context.ts";
import { login } from "./login.ts";
import { type PullEvent, pullImage } from "./pull.ts";
import { removeImage } from "./remove.ts";

let registry: Registry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

/** The layer cache holds exactly these layers: no staging directory of an unpack is left behind. */
function expectLayerCache(box: BoxContext, diffIds: string[]): void {
  const names = existsSync(box.paths.layers) ? readdirSync(box.paths.layers).sort() : [];
  expect(names).toEqual(diffIds.map((diffId) => diffId.slice(7)).sort());
}

function newBox(config: Record<string, unknown> = {}): BoxContext {
  const home = mkdtempSync(join(tmpdir(), "a3s-pull-"));
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "config.json"), JSON.stringify(config));
  return openBoxContext(pathsFor(home), {});
}

describe("pull", () => {
  test("pulls, verifies, unpacks and records an OCI image", async () => {
    const pushed = await pushImage(registry, "test/busybox", "1", {
      layers: [busyboxLayer()],
      config: { Cmd: ["sh"], Labels: { a: "b" } },
    });
    const box = newBox();
    const events: PullEvent[] = [];
    const result = await pullImage(box, {
      reference: `${registry.host}/test/busybox:1`,
      onEvent: (e) => events.push(e),
    });

    expect(result.upToDate).toBe(false);
    expect(result.digest).toBe(pushed.manifestDigest);
    expect(result.image.id).toBe(pushed.configDigest);
    expect(result.image.tags).toEqual([`${registry.host}/test/busybox:1`]);
    expect(result.image.config.config?.Labels).toEqual({ a: "b" });
    const layer = result.image.layers[0]!;
    expect(box.blobs.has(layer.digest)).toBe(true);
    expect(box.layers.has(layer.diffId)).toBe(true);
    expect(statSync(join(box.layers.path(layer.diffId), "bin/busybox")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(box.layers.path(layer.diffId), "bin/sh")).isSymbolicLink()).toBe(true);
    const statuses = events.map((e) => e.status);
    expect(statuses[0]).toBe(`Pulling from ${registry.host}/test/busybox`);
    expect(statuses).toContain("Pull complete");
    expect(statuses).toContain(`Digest: ${pushed.manifestDigest}`);
    expect(statuses.at(-1)).toStartWith("Status: Downloaded newer image for");
    expect(box.images.resolve(`${registry.host}/test/busybox:1`)?.id).toBe(pushed.configDigest);
    expect(box.images.resolve(pushed.configDigest.slice(7, 19))?.id).toBe(pushed.configDigest);
    expect(box.images.resolve(`${registry.host}/test/busybox@${pushed.manifestDigest}`)?.id).toBe(
      pushed.configDigest,
    );
    expect(readdirSync(join(box.paths.images, "ingest"))).toEqual([]);

    const again = await pullImage(box, { reference: `${registry.host}/test/busybox:1` });
    expect(again.upToDate).toBe(true);
    expect(again.downloadedBytes).toBe(0);
  });

  test("Docker schema2 manifest lists: host platform by default, --platform to choose", async () => {
    const amd = await pushImage(registry, "test/multi", null, {
      layers: [busyboxLayer()],
      platform: { os: "linux", architecture: "amd64" },
      format: "docker",
    });
    const arm = await pushImage(registry, "test/multi", null, {
      layers: [busyboxLayer()],
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
      format: "docker",
      config: { Env: ["ARCH=arm64"] },
    });
    const index = await pushIndex(
      registry,
      "test/multi",
      "latest",
      [
        {
          manifestDigest: amd.manifestDigest,
          size: amd.size,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          manifestDigest: arm.manifestDigest,
          size: arm.size,
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
      ],
      "docker",
    );
    const box = newBox();
    const host = await pullImage(box, { reference: `${registry.host}/test/multi` });
    expect(host.image.platform.architecture).toBe(hostPlatform().architecture);
    expect(host.digest).toBe(index.digest);
    expect(host.image.repoDigests).toEqual([`${registry.host}/test/multi@${index.digest}`]);

    const other = await pullImage(box, {
      reference: `${registry.host}/test/multi`,
      platform: { os: "linux", architecture: "arm64" },
    });
    expect(other.image.id).toBe(arm.configDigest);
    expect(other.image.config.config?.Env).toEqual(["ARCH=arm64"]);

    const missing = await expectA3sErrorAsync(
      pullImage(box, {
        reference: `${registry.host}/test/multi`,
        platform: { os: "linux", architecture: "s390x" },
      }),
      "not_found",
      /linux\/s390x/,
    );
    expect(missing.hint).toContain("linux/arm64/v8");
  });

  test("whiteouts are kept as overlay whiteouts in the layer cache", async () => {
    await pushImage(registry, "test/layers", "1", { layers: multiLayerWithWhiteouts("zstd") });
    const box = newBox();
    const { image } = await pullImage(box, { reference: `${registry.host}/test/layers:1` });
    expect(image.layers.length).toBe(3);
    const top = box.layers.path(image.layers[2]!.diffId);
    expect(lstatSync(join(top, "data/a")).isCharacterDevice()).toBe(true);
    expect(box.layers.info(image.layers[2]!.diffId)?.whiteouts).toEqual([
      { path: "data/a", opaque: false },
      { path: "data/dir", opaque: true },
    ]);
  });

  test("a blob the registry corrupted is rejected and nothing is stored", async () => {
    const layer = busyboxLayer("none");
    await pushImage(registry, "test/corrupt", "1", { layers: [layer] });
    const hex = layer.digest.slice(7);
    const data = join(registry.storage, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    const bytes = new Uint8Array(await Bun.file(data).arrayBuffer());
    const flip = () => {
      bytes[bytes.length - 600] = (bytes[bytes.length - 600] ?? 0) ^ 0xff;
      writeFileSync(data, bytes);
    };
    flip();
    try {
      const box = newBox();
      await expectA3sErrorAsync(
        pullImage(box, { reference: `${registry.host}/test/corrupt:1` }),
        "integrity",
        /failed verification/,
      );
      expect(box.blobs.has(layer.digest)).toBe(false);
      expect(readdirSync(join(box.paths.images, "ingest"))).toEqual([]);
      expect(box.images.list()).toEqual([]);
      expectLayerCache(box, []);
    } finally {
      flip();
    }
  });

  test("a well-formed blob served for another digest unpacks, but is refused and nothing is kept", async () => {
    // Same size, other content: only the digest the unpack worker takes of what it read tells them apart.
    const wanted = buildLayer([{ path: "etc/motd", content: "the layer the manifest names\n" }], "none");
    const served = buildLayer([{ path: "etc/motd", content: "the layer a registry swapped\n" }], "none");
    expect(served.blob.length).toBe(wanted.blob.length);
    await pushImage(registry, "test/swapped", "1", { layers: [wanted] });
    const hex = wanted.digest.slice(7);
    const data = join(registry.storage, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    const original = new Uint8Array(await Bun.file(data).arrayBuffer());
    writeFileSync(data, served.blob);
    try {
      const box = newBox();
      await expectA3sErrorAsync(
        pullImage(box, { reference: `${registry.host}/test/swapped:1` }),
        "integrity",
        /failed verification: content hashes to sha256:/,
      );
      expect(box.blobs.has(wanted.digest)).toBe(false);
      expect(readdirSync(join(box.paths.images, "ingest"))).toEqual([]);
      expect(box.images.list()).toEqual([]);
      expectLayerCache(box, []);
    } finally {
      writeFileSync(data, original);
    }
  });

  test("an interrupted download resumes with a Range request", async () => {
    const layers = [busyboxLayer("none")];
    await pushImage(registry, "test/resume", "1", { layers });
    // A proxy that cuts the first blob response halfway, and records each request's Range header.
    const ranges: Array<string | undefined> = [];
    let cut = false;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(registry.host.split(":")[1]), "127.0.0.1");
      let isBlob = false;
      let sent = 0;
      client.on("data", (chunk: Buffer) => {
        const text = chunk.toString("latin1");
        if (text.startsWith(`GET /v2/test/resume/blobs/${layers[0]!.digest}`)) {
          isBlob = true;
          ranges.push(/\r\nrange: ([^\r]+)/i.exec(text)?.[1]);
        }
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => {
        if (isBlob && !cut && sent + chunk.length > layers[0]!.size / 2) {
          cut = true;
          client.write(chunk.subarray(0, Math.max(0, layers[0]!.size / 2 - sent)));
          client.destroy();
          upstream.destroy();
          return;
        }
        sent += chunk.length;
        client.write(chunk);
      });
      upstream.on("end", () => client.end());
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const host = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    try {
      const box = newBox();
      const events: PullEvent[] = [];
      const result = await pullImage(box, {
        reference: `${host}/test/resume:1`,
        onEvent: (e) => events.push(e),
      });
      expect(cut).toBe(true);
      expect(ranges[0]).toBeUndefined();
      expect(ranges[1]).toMatch(/^bytes=\d+-$/);
      expect(Number(/bytes=(\d+)-/.exec(ranges[1]!)?.[1])).toBeGreaterThan(0);
      expect(events.some((e) => e.status.startsWith("Retrying"))).toBe(true);
      expect(box.blobs.has(result.image.layers[0]!.digest)).toBe(true);
      // The unpack that followed the cut download was dropped; the one after the retry was kept.
      expectLayerCache(box, [layers[0]!.diffId]);
    } finally {
      proxy.close();
    }
  });

  test("a partial download left by an earlier run is resumed", async () => {
    const layer = busyboxLayer("zstd");
    await pushImage(registry, "test/partial", "1", { layers: [layer] });
    const box = newBox();
    const half = Math.floor(layer.size / 2);
    mkdirSync(join(box.paths.images, "ingest"), { recursive: true });
    writeFileSync(box.blobs.partialPath(layer.digest), layer.blob.slice(0, half));
    const result = await pullImage(box, { reference: `${registry.host}/test/partial:1` });
    expect(result.downloadedBytes).toBe(layer.size - half);
    expect(box.blobs.has(layer.digest)).toBe(true);
    expect(existsSync(join(box.layers.path(layer.diffId), "bin/busybox"))).toBe(true);
  });

  test("layers are unpacked while they download: several large ones land intact in the cache", async () => {
    const layers = largeImage(12, 3, { seed: "pull-stream" });
    const pushed = await pushImage(registry, "test/large", "1", { layers });
    const box = newBox();
    const events: PullEvent[] = [];
    await pullImage(box, { reference: `${registry.host}/test/large:1`, onEvent: (e) => events.push(e) });
    expectLayerCache(
      box,
      layers.map((layer) => layer.diffId),
    );
    for (const [index, layer] of layers.entries()) {
      expect(box.layers.info(layer.diffId)?.size).toBe(Math.floor((12 * 1024 * 1024) / 3));
      expect(statSync(join(box.layers.path(layer.diffId), `data/blob-${index}.bin`)).size).toBe(
        Math.floor((12 * 1024 * 1024) / 3),
      );
    }
    // Each layer completes after its download, as in Docker's stream.
    for (const layer of pushed.manifest.layers) {
      const id = layer.digest.slice(7, 19);
      const statuses = events.filter((e) => e.id === id).map((e) => e.status);
      expect(statuses.indexOf("Download complete")).toBeLessThan(statuses.indexOf("Pull complete"));
    }
  });

  test("a layer listed twice in a manifest is downloaded once and recorded twice", async () => {
    const layer = largeImage(4, 1, { seed: "listed-twice" })[0] as Layer;
    await pushImage(registry, "test/twice", "1", { layers: [busyboxLayer(), layer, layer] });
    const box = newBox();
    const events: PullEvent[] = [];
    const result = await pullImage(box, {
      reference: `${registry.host}/test/twice:1`,
      onEvent: (event) => events.push(event),
    });
    expect(result.image.layers.map((l) => l.digest)).toEqual([
      busyboxLayer().digest,
      layer.digest,
      layer.digest,
    ]);
    expect(result.downloadedBytes).toBe(busyboxLayer().blob.length + layer.blob.length);
    const id = layer.digest.slice(7, 19);
    expect(events.filter((e) => e.id === id && e.status === "Download complete")).toHaveLength(1);
    expectLayerCache(box, [busyboxLayer().diffId, layer.diffId]);
  });

  test("a config for another platform stops the downloads that started alongside it, keeping nothing", async () => {
    // Layer downloads go out with the config's request; the config then refuses the image.
    const layers = [busyboxLayer(), ...largeImage(8, 2, { seed: "other-platform" })];
    await pushImage(registry, "test/s390x", "1", {
      layers,
      platform: { os: "linux", architecture: "s390x" },
    });
    const box = newBox();
    await expectA3sErrorAsync(
      pullImage(box, { reference: `${registry.host}/test/s390x:1` }),
      "not_found",
      /image is for linux\/s390x/,
    );
    for (const layer of layers) expect(box.blobs.has(layer.digest)).toBe(false);
    const ingest = join(box.paths.images, "ingest");
    expect(existsSync(ingest) ? readdirSync(ingest) : []).toEqual([]);
    expect(box.images.list()).toEqual([]);
    expectLayerCache(box, []);
  });

  test("a layer that does not hash to the config's diff_id is refused and not cached under it", async () => {
    const real = busyboxLayer();
    const claimed = buildLayer([{ path: "etc/motd", content: "the layer the config names\n" }]);
    // The config lists the diff_id of another layer: unpacked, the content would poison that cache entry.
    await pushImage(registry, "test/lying", "1", { layers: [{ ...real, diffId: claimed.diffId }] });
    const box = newBox();
    await expectA3sErrorAsync(
      pullImage(box, { reference: `${registry.host}/test/lying:1` }),
      "integrity",
      /hashes to .* but the image config says/,
    );
    expectLayerCache(box, []);
    expect(box.images.list()).toEqual([]);
  });

  test("a hostile layer fails the pull and leaves nothing behind", async () => {
    const hostile = buildLayer([
      { path: "data", type: "dir" },
      { path: "data/big.bin", content: new Uint8Array(4 << 20).fill(1) },
      { path: "../../../../escaped-by-a3s-test", content: "pwned" },
    ]);
    await pushImage(registry, "test/hostile", "1", { layers: [busyboxLayer(), hostile] });
    const box = newBox();
    await expectA3sErrorAsync(
      pullImage(box, { reference: `${registry.host}/test/hostile:1` }),
      "integrity",
      /escaped-by-a3s-test/,
    );
    expect(existsSync(join(box.paths.layers, "..", "..", "..", "escaped-by-a3s-test"))).toBe(false);
    expect(existsSync("/escaped-by-a3s-test")).toBe(false);
    expectLayerCache(box, [busyboxLayer().diffId]);
    expect(box.images.list()).toEqual([]);
  });

  test("registry mirrors serve Docker Hub names, falling back to the next endpoint", async () => {
    await pushImage(registry, "library/mirrored", "3", { layers: [busyboxLayer()] });
    const box = newBox({ box: { registryMirrors: ["http://127.0.0.1:9", registry.host] } });
    const result = await pullImage(box, { reference: "mirrored:3" });
    expect(result.reference).toBe("docker.io/library/mirrored:3");
    expect(box.images.resolve("mirrored:3")?.id).toBe(result.image.id);
  });

  test("unknown tags and repositories are not-found errors", async () => {
    const box = newBox();
    await expectA3sErrorAsync(
      pullImage(box, { reference: `${registry.host}/test/busybox:nope` }),
      "not_found",
      /nope/,
    );
    await expectA3sErrorAsync(pullImage(box, { reference: `${registry.host}/no/such` }), "not_found");
    await expectA3sErrorAsync(pullImage(box, { reference: "UPPER" }), "usage", /lowercase/);
  });

  test("rmi deletes blobs and layers no other image shares", async () => {
    await pushImage(registry, "test/shared", "a", { layers: [busyboxLayer()], config: { Env: ["A=1"] } });
    const b = await pushImage(registry, "test/shared", "b", {
      layers: multiLayerWithWhiteouts().slice(0, 2),
      config: { Env: ["B=1"] },
    });
    const box = newBox();
    const first = await pullImage(box, { reference: `${registry.host}/test/shared:a` });
    const second = await pullImage(box, { reference: `${registry.host}/test/shared:b` });
    const shared = first.image.layers[0]!;
    const own = second.image.layers[1]!;
    expect(second.image.layers[0]!.digest).toBe(shared.digest);

    const events = removeImage(box, `${registry.host}/test/shared:b`);
    expect(events.at(-1)).toEqual({ Deleted: b.configDigest });
    expect(box.blobs.has(shared.digest)).toBe(true);
    expect(box.layers.has(shared.diffId)).toBe(true);
    expect(box.blobs.has(own.digest)).toBe(false);
    expect(box.layers.has(own.diffId)).toBe(false);
    expect(existsSync(box.blobs.path(b.configDigest))).toBe(false);
  });
});

describe("pull with token auth", () => {
  let secured: Registry;
  beforeAll(async () => {
    secured = await startRegistry({ auth: "token", users: { alice: "s3cret" } });
    await pushImage(secured, "private/app", "1", { layers: [busyboxLayer()] });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  test("anonymous pull is refused with a login hint", async () => {
    const err = await expectA3sErrorAsync(
      pullImage(newBox(), { reference: `${secured.host}/private/app:1` }),
      "permission",
    );
    expect(err.hint).toContain("a3s box login");
  });

  test("login verifies credentials; wrong ones are refused and not saved", async () => {
    const box = newBox();
    await expectA3sErrorAsync(login(box.paths, secured.host, "alice", "wrong", true), "permission");
    expect(existsSync(box.paths.auth)).toBe(false);
    await login(box.paths, secured.host, "alice", "s3cret", true);
    expect(statSync(box.paths.auth).mode & 0o777).toBe(0o600);

    const before = secured.tokenRequests();
    const result = await pullImage(box, { reference: `${secured.host}/private/app:1` });
    expect(result.image.layers.length).toBe(1);
    // One token for the repository scope, reused for the manifest, config and layer requests.
    expect(secured.tokenRequests() - before).toBe(1);
  });

  test("credentials from ~/.docker/config.json are used", async () => {
    const home = mkdtempSync(join(tmpdir(), "a3s-docker-"));
    mkdirSync(join(home, ".docker"));
    writeFileSync(
      join(home, ".docker", "config.json"),
      JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from("alice:s3cret").toString("base64") } } }),
    );
    const box = openBoxContext(pathsFor(join(home, ".a3s")), { HOME: home });
    const result = await pullImage(box, { reference: `${secured.host}/private/app:1` });
    expect(result.image.tags.length).toBe(1);
  });
});
