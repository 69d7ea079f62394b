/**
 * Pulls Ollama-style models from a real registry (Debian's docker-registry on loopback) into a real
 * store, directly and through a scriptable proxy that logs, redirects, cuts or stalls blob responses.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sErrorAsync } from "../../tests/expect-error.ts";
import { writeGguf } from "../../tests/fixtures/gguf.ts";
import { type BuiltModel, pushModel, registryBlobPath } from "../../tests/fixtures/models.ts";
import { type Registry, startRegistry } from "../../tests/fixtures/registry.ts";
import { pathsFor } from "../core/paths.ts";
import { openPowerContext, type PowerContext } from "./context.ts";
import { partialPath } from "./download.ts";
import { type PullEvent, pullModel } from "./pull.ts";

let registry: Registry;
let tiny: BuiltModel;
beforeAll(async () => {
  registry = await startRegistry();
  tiny = await pushModel(registry, "library/tiny", "1", {
    gguf: writeGguf({ layers: 2, width: 64, heads: 4, ffn: 256, contextLength: 512, vocab: "bpe", seed: 1 }),
    template: "{{ .Prompt }}",
    params: { stop: ["<|eot_id|>"], temperature: 0.6 },
    license: "MIT License",
  });
});
afterAll(async () => {
  await registry?.stop();
});

/** A store whose default registry is `host` (the test registry unless a proxy is given). */
function newPower(host = registry.host, home = mkdtempSync(join(tmpdir(), "a3s-pull-"))): PowerContext {
  return openPowerContext(pathsFor(home), { A3S_POWER_REGISTRY: host });
}

/** Splits blobs over 64 KiB into up to 4 ranges, so tiny models exercise the parallel path. */
const PARALLEL = { threshold: 64 * 1024, maxParts: 4, minPartSize: 32 * 1024 };

interface Proxy {
  host: string;
  requests: Array<{ path: string; range: string | undefined }>;
  stop(): void;
}

interface ProxyBehaviour {
  /** Answer blob GETs with a 307 to the registry itself. */
  redirect?: boolean;
  /** Drop Range headers, as a server without range support would. */
  ignoreRange?: boolean;
  /** Cut the first blob response after this many bytes. */
  cutAfter?: number;
  /** Send this many bytes of each blob response, then stall until the client goes away. */
  stallAfter?: number;
}

function startProxy(behaviour: ProxyBehaviour = {}): Proxy {
  const requests: Proxy["requests"] = [];
  let cut = false;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const isBlob = url.pathname.includes("/blobs/");
      if (isBlob) requests.push({ path: url.pathname, range: request.headers.get("range") ?? undefined });
      const target = `${registry.url}${url.pathname}${url.search}`;
      if (behaviour.redirect && isBlob)
        return new Response(null, { status: 307, headers: { location: target } });
      const headers = new Headers(request.headers);
      headers.delete("host");
      if (behaviour.ignoreRange) headers.delete("range");
      const upstream = await fetch(target, { method: request.method, headers, redirect: "manual" });
      let limit = behaviour.stallAfter;
      if (isBlob && behaviour.cutAfter !== undefined && !cut) {
        cut = true;
        limit = behaviour.cutAfter;
      }
      if (!isBlob || limit === undefined || !upstream.body) return upstream;
      const reader = upstream.body.getReader();
      let sent = 0;
      const stall = behaviour.stallAfter !== undefined;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          if (sent + value.length <= (limit as number)) {
            sent += value.length;
            return controller.enqueue(value);
          }
          controller.enqueue(value.subarray(0, (limit as number) - sent));
          sent = limit as number;
          await reader.cancel();
          if (stall) await new Promise((resolve) => request.signal.addEventListener("abort", resolve));
          // Ends the body short of its Content-Length: the client sees the connection drop.
          controller.close();
        },
      });
      return new Response(body, { status: upstream.status, headers: upstream.headers });
    },
  });
  return { host: `127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}

function blobFiles(power: PowerContext): string[] {
  return existsSync(power.store.blobsDir) ? readdirSync(power.store.blobsDir) : [];
}

describe("power pull", () => {
  test("streams Ollama's status messages, verifies and records the model", async () => {
    const power = newPower();
    const events: PullEvent[] = [];
    const result = await pullModel(power, { name: "tiny:1", onEvent: (e) => events.push(e) });

    expect(result.displayName).toBe("tiny:1");
    expect(result.record.digest).toBe(tiny.manifestDigest);
    expect(result.record.size).toBe(tiny.size);
    expect(result.downloadedBytes).toBe(tiny.size);
    expect(result.record.details).toMatchObject({
      format: "gguf",
      family: "llama",
      quantization_level: "F32",
    });
    const statuses = [...new Set(events.map((e) => e.status))];
    expect(statuses).toEqual([
      "pulling manifest",
      ...[...tiny.layers, tiny.config].map((blob) => `pulling ${blob.digest.slice(7, 19)}`),
      "verifying sha256 digest",
      "writing manifest",
      "success",
    ]);
    for (const blob of [...tiny.layers, tiny.config]) {
      const last = events.filter((e) => e.digest === blob.digest).at(-1);
      expect(last).toEqual({
        status: `pulling ${blob.digest.slice(7, 19)}`,
        digest: blob.digest,
        total: blob.size,
        completed: blob.size,
      });
      expect(new Uint8Array(readFileSync(power.store.blobPath(blob.digest)))).toEqual(
        new Uint8Array(blob.data),
      );
    }
    const manifest = join(power.paths.models, `manifests/${registry.host}/library/tiny/1`);
    expect(new Uint8Array(readFileSync(manifest))).toEqual(new Uint8Array(tiny.manifestBytes));
    expect(blobFiles(power).filter((f) => f.includes("partial"))).toEqual([]);

    const again = await pullModel(power, { name: `${registry.host}/library/tiny:1` });
    expect(again.downloadedBytes).toBe(0);
    expect(again.record.digest).toBe(tiny.manifestDigest);
  });

  test("large blobs come in parallel ranges written into one file", async () => {
    const proxy = startProxy();
    try {
      const power = newPower(proxy.host);
      const result = await pullModel(power, { name: "tiny:1", parallel: PARALLEL });
      const weights = tiny.layers[0]!;
      const ranges = proxy.requests.filter((r) => r.path.endsWith(weights.digest)).map((r) => r.range);
      expect(ranges).toHaveLength(4);
      const partSize = Math.ceil(weights.size / 4);
      expect(ranges.sort()).toEqual(
        [0, 1, 2, 3]
          .map((i) => `bytes=${i * partSize}-${Math.min(weights.size, (i + 1) * partSize) - 1}`)
          .sort(),
      );
      expect(new Uint8Array(readFileSync(power.store.blobPath(weights.digest)))).toEqual(
        new Uint8Array(weights.data),
      );
      expect(result.record.digest).toBe(tiny.manifestDigest);
    } finally {
      proxy.stop();
    }
  });

  test("redirects to another location are followed", async () => {
    const proxy = startProxy({ redirect: true });
    try {
      const power = newPower(proxy.host);
      await pullModel(power, { name: "tiny:1", parallel: PARALLEL });
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(power.store.list()).toHaveLength(1);
    } finally {
      proxy.stop();
    }
  });

  test("a server that ignores Range gets one plain download instead", async () => {
    const proxy = startProxy({ ignoreRange: true });
    try {
      const power = newPower(proxy.host);
      const weights = tiny.layers[0]!;
      await pullModel(power, { name: "tiny:1", parallel: PARALLEL });
      expect(new Uint8Array(readFileSync(power.store.blobPath(weights.digest)))).toEqual(
        new Uint8Array(weights.data),
      );
      const ranges = proxy.requests.filter((r) => r.path.endsWith(weights.digest)).map((r) => r.range);
      expect(ranges.at(-1)).toBeUndefined();
    } finally {
      proxy.stop();
    }
  });

  test("a corrupt blob is an integrity error and nothing is left behind", async () => {
    const model = await pushModel(registry, "library/corrupt", "1", {
      gguf: writeGguf({ layers: 1, width: 64, heads: 4, ffn: 128, contextLength: 64, vocab: "spm", seed: 7 }),
      license: "corrupt test",
    });
    const data = registryBlobPath(registry, model.layers[0]!.digest);
    const bytes = readFileSync(data);
    const flip = () => {
      bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
      writeFileSync(data, bytes);
    };
    flip();
    try {
      for (const parallel of [undefined, PARALLEL]) {
        const power = newPower();
        await expectA3sErrorAsync(
          pullModel(power, { name: "corrupt:1", ...(parallel ? { parallel } : {}) }),
          "integrity",
          /failed verification/,
        );
        expect(blobFiles(power)).toEqual([]);
        expect(power.store.list()).toEqual([]);
        expect(existsSync(join(power.paths.models, "manifests"))).toBe(false);
      }
    } finally {
      flip();
    }
  });

  test("a cut download is retried with a Range request", async () => {
    const proxy = startProxy({ cutAfter: 100_000 });
    try {
      const power = newPower(proxy.host);
      await pullModel(power, { name: "tiny:1" });
      const weights = tiny.layers[0]!.digest;
      const ranges = proxy.requests.filter((r) => r.path.endsWith(weights)).map((r) => r.range);
      expect(ranges[0]).toBeUndefined();
      expect(ranges[1]).toMatch(/^bytes=\d+-\d+$/);
      expect(Number(/bytes=(\d+)-/.exec(ranges[1]!)?.[1])).toBeGreaterThan(0);
      expect(power.store.hasBlob(weights)).toBe(true);
    } finally {
      proxy.stop();
    }
  });

  test("an interrupted parallel pull resumes every part where it stopped", async () => {
    const stalled = startProxy({ stallAfter: 40_000 });
    const weights = tiny.layers[0]!;
    const power = newPower(stalled.host);
    const controller = new AbortController();
    try {
      await expectA3sErrorAsync(
        pullModel(power, {
          name: "tiny:1",
          parallel: PARALLEL,
          signal: controller.signal,
          onEvent: (e) => {
            if (e.digest === weights.digest && (e.completed ?? 0) >= 4 * 40_000) controller.abort();
          },
        }),
        "interrupted",
      );
    } finally {
      stalled.stop();
    }
    expect(existsSync(partialPath(power.store, weights.digest))).toBe(true);
    const saved = JSON.parse(readFileSync(`${partialPath(power.store, weights.digest)}.json`, "utf8"));
    expect(saved.parts.map((p: { completed: number }) => p.completed)).toEqual([
      40_000, 40_000, 40_000, 40_000,
    ]);

    const proxy = startProxy();
    try {
      const resumed = newPower(proxy.host, power.paths.home);
      const result = await pullModel(resumed, { name: "tiny:1", parallel: PARALLEL });
      const ranges = proxy.requests.filter((r) => r.path.endsWith(weights.digest)).map((r) => r.range);
      const partSize = Math.ceil(weights.size / 4);
      expect(ranges.sort()).toEqual(
        [0, 1, 2, 3]
          .map((i) => `bytes=${i * partSize + 40_000}-${Math.min(weights.size, (i + 1) * partSize) - 1}`)
          .sort(),
      );
      expect(result.downloadedBytes).toBe(tiny.size - 4 * 40_000);
      expect(power.store.hasBlob(weights.digest)).toBe(true);
    } finally {
      proxy.stop();
    }
  });

  test("a partial file left by an earlier run is resumed", async () => {
    const power = newPower();
    const weights = tiny.layers[0]!;
    mkdirSync(power.store.blobsDir, { recursive: true });
    const half = Math.floor(weights.size / 2);
    writeFileSync(partialPath(power.store, weights.digest), weights.data.subarray(0, half));
    const result = await pullModel(power, { name: "tiny:1" });
    expect(result.downloadedBytes).toBe(tiny.size - half);
    expect(power.store.hasBlob(weights.digest)).toBe(true);
  });

  test("unknown models are not-found errors", async () => {
    const power = newPower();
    await expectA3sErrorAsync(
      pullModel(power, { name: "tiny:nope" }),
      "not_found",
      /model 'tiny:nope' not found/,
    );
    await expectA3sErrorAsync(pullModel(power, { name: "no/such" }), "not_found");
    await expectA3sErrorAsync(pullModel(power, { name: "bad name" }), "usage");
  });
});
