/**
 * Pushes models to a real registry (Debian's docker-registry on loopback) and pulls them back into a
 * fresh store, directly, with token auth, and through a proxy that drops a connection mid-chunk.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sErrorAsync } from "../../tests/expect-error.ts";
import { writeGguf } from "../../tests/fixtures/gguf.ts";
import { type BuiltModel, pushModel as publish } from "../../tests/fixtures/models.ts";
import { type Registry, startRegistry } from "../../tests/fixtures/registry.ts";
import { pathsFor } from "../core/paths.ts";
import { openPowerContext, type PowerContext } from "./context.ts";
import { parseModelName } from "./name.ts";
import { pullModel } from "./pull.ts";
import { type PushEvent, pushModel } from "./push.ts";

let registry: Registry;
let tiny: BuiltModel;
beforeAll(async () => {
  registry = await startRegistry();
  tiny = await publish(registry, "library/tiny", "1", {
    gguf: writeGguf({ layers: 2, width: 64, heads: 4, ffn: 256, contextLength: 512, vocab: "bpe", seed: 3 }),
    template: "{{ .Prompt }}",
    params: { temperature: 0.6 },
    license: "MIT License",
  });
});
afterAll(async () => {
  await registry?.stop();
});

function newPower(host = registry.host, env: NodeJS.ProcessEnv = {}): PowerContext {
  const home = mkdtempSync(join(tmpdir(), "a3s-push-"));
  return openPowerContext(pathsFor(home), { A3S_POWER_REGISTRY: host, ...env });
}

/** A store holding tiny:1 from the registry, copied to `target` (a name in another repository). */
async function localCopy(target: string, power = newPower()): Promise<PowerContext> {
  await pullModel(power, { name: "tiny:1" });
  power.store.copy(parseModelName("tiny:1", power.registry.host), parseModelName(target), "tiny:1");
  return power;
}

/** Pulls `name` into a fresh store and checks it is tiny, byte for byte. */
async function expectSameModel(name: string, host = registry.host): Promise<void> {
  const fresh = newPower(host);
  const pulled = await pullModel(fresh, { name });
  expect(pulled.record.digest).toBe(tiny.manifestDigest);
  for (const blob of [...tiny.layers, tiny.config]) {
    expect(new Uint8Array(readFileSync(fresh.store.blobPath(blob.digest)))).toEqual(
      new Uint8Array(blob.data),
    );
  }
}

interface ProxyRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: boolean;
}

interface Proxy {
  host: string;
  requests: ProxyRequest[];
  stop(): void;
}

/**
 * A proxy in front of the registry that can drop the client's connection halfway through the body of
 * its `cut.patch`-th PATCH (node:http, because only a raw socket can be destroyed mid-request), either
 * before the registry saw any of that chunk or after forwarding the half it received.
 */
interface ProxyOptions {
  /** Drop the connection in the `patch`-th PATCH (see above). */
  cut?: { patch: number; forwardHalf: boolean };
  /** The registry behind the proxy (the shared one unless given). */
  target?: Registry;
  /** Hand out upload Locations on this host instead of the proxy's own. */
  uploadHost?: string;
  /** Authorization sent upstream in place of the client's (a presigned upload URL's own access). */
  authorization?: string;
}

async function startProxy({
  cut,
  target: upstreamRegistry,
  uploadHost,
  authorization,
}: ProxyOptions = {}): Promise<Proxy> {
  const requests: ProxyRequest[] = [];
  let patches = 0;
  const server = http.createServer(async (req, res) => {
    const path = req.url ?? "/";
    const socket = req.socket;
    requests.push({
      method: req.method ?? "",
      path: path.split("?")[0] ?? path,
      range: req.headers["content-range"],
      authorization: req.headers.authorization !== undefined,
    });
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (typeof value === "string" && !["host", "connection", "content-length"].includes(key)) {
        headers[key] = value;
      }
    }
    const chunks: Buffer[] = [];
    const cutThis = req.method === "PATCH" && ++patches === cut?.patch;
    const expected = Number(req.headers["content-length"] ?? 0);
    let received = 0;
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
      received += (chunk as Buffer).length;
      if (cutThis && received >= expected / 2) break;
    }
    const body = Buffer.concat(chunks);
    const origin = (upstreamRegistry ?? registry).url;
    const target = `${origin}${path}`;
    if (authorization) headers.authorization = authorization;
    if (cutThis) {
      if (cut?.forwardHalf) {
        // The registry gets half the chunk, then the connection to it drops too.
        const upstream = new AbortController();
        const half = new ReadableStream({
          start(controller) {
            controller.enqueue(body);
          },
          pull() {
            setTimeout(() => upstream.abort(), 50);
          },
        });
        await fetch(target, { method: "PATCH", headers, body: half, signal: upstream.signal }).catch(
          () => {},
        );
      }
      socket.destroy();
      return;
    }
    const response = await fetch(target, {
      method: req.method ?? "GET",
      headers,
      redirect: "manual",
      ...(body.length > 0 ? { body } : {}),
    });
    const out: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      if (key === "transfer-encoding" || key === "connection") return;
      // Upload Locations name the registry's own address; the client must keep talking to the proxy.
      out[key] = key === "location" ? value.replace(origin, `http://${uploadHost ?? host}`) : value;
    });
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return { host, requests, stop: () => server.close() };
}

describe("power push", () => {
  test("pushes a copied model; a fresh pull gets the same manifest and blobs", async () => {
    const target = `${registry.host}/me/tiny:1`;
    const power = await localCopy(target);
    const events: PushEvent[] = [];
    const result = await pushModel(power, { name: target, onEvent: (e) => events.push(e) });
    expect(result.digest).toBe(tiny.manifestDigest);
    expect(result.uploadedBytes).toBe(tiny.size);
    const statuses = [...new Set(events.map((e) => e.status))];
    expect(statuses).toEqual([
      "retrieving manifest",
      ...[...tiny.layers, tiny.config].map((blob) => `pushing ${blob.digest.slice(7, 19)}`),
      "pushing manifest",
      "success",
    ]);
    for (const blob of [...tiny.layers, tiny.config]) {
      expect(events.filter((e) => e.digest === blob.digest).at(-1)).toEqual({
        status: `pushing ${blob.digest.slice(7, 19)}`,
        digest: blob.digest,
        total: blob.size,
        completed: blob.size,
      });
    }
    await expectSameModel("me/tiny:1");

    // Everything is there now: HEAD answers 200 for every blob and nothing is uploaded.
    const proxy = await startProxy();
    try {
      const again = newPower(proxy.host);
      await localCopy(`${proxy.host}/me/tiny:1`, again);
      const second = await pushModel(again, { name: `${proxy.host}/me/tiny:1` });
      expect(second.uploadedBytes).toBe(0);
      const pushed = proxy.requests.filter((r) => r.path.startsWith("/v2/me/"));
      expect(pushed.map((r) => r.method)).toEqual([...Array(tiny.layers.length + 1).fill("HEAD"), "PUT"]);
    } finally {
      proxy.stop();
    }
  });

  test("a blob larger than the chunk size goes in several PATCH requests", async () => {
    const proxy = await startProxy();
    try {
      const name = `${proxy.host}/chunked/tiny:1`;
      const power = await localCopy(name, newPower(proxy.host));
      const chunkSize = 100_000;
      await pushModel(power, { name, chunkSize });
      const weights = tiny.layers[0]!;
      const patches = proxy.requests.filter((r) => r.method === "PATCH").map((r) => r.range);
      const expected: string[] = [];
      for (const blob of [...tiny.layers, tiny.config]) {
        for (let start = 0; start < blob.size; start += chunkSize) {
          expected.push(`${start}-${Math.min(blob.size, start + chunkSize) - 1}`);
        }
      }
      expect(patches).toEqual(expected);
      expect(patches.length).toBeGreaterThan(Math.floor(weights.size / chunkSize));
      await expectSameModel("chunked/tiny:1");
    } finally {
      proxy.stop();
    }
  });

  test("a connection dropped mid-chunk resumes from where the registry stands", async () => {
    const proxy = await startProxy({ cut: { patch: 3, forwardHalf: false } });
    try {
      const name = `${proxy.host}/resumed/tiny:1`;
      const power = await localCopy(name, newPower(proxy.host));
      await pushModel(power, { name, chunkSize: 100_000 });
      const weights = tiny.layers[0]!.digest;
      const sequence = proxy.requests
        .filter((r) => r.path.startsWith("/v2/resumed/") && !r.path.includes(weights.slice(7)))
        .map((r) => `${r.method} ${r.range ?? ""}`.trim());
      // The third chunk is cut, the registry still has two; the same chunk is sent again.
      expect(sequence.slice(0, 7)).toEqual([
        "POST",
        "PATCH 0-99999",
        "PATCH 100000-199999",
        "PATCH 200000-299999",
        "GET",
        "PATCH 200000-299999",
        "PATCH 300000-399999",
      ]);
      await expectSameModel("resumed/tiny:1");
    } finally {
      proxy.stop();
    }
  });

  test("when the registry kept part of a cut chunk, the upload starts again and succeeds", async () => {
    const proxy = await startProxy({ cut: { patch: 2, forwardHalf: true } });
    try {
      const name = `${proxy.host}/restarted/tiny:1`;
      const power = await localCopy(name, newPower(proxy.host));
      await pushModel(power, { name, chunkSize: 100_000 });
      const methods = proxy.requests.filter((r) => r.path.startsWith("/v2/restarted/")).map((r) => r.method);
      expect(methods.filter((m) => m === "POST").length).toBeGreaterThan(tiny.layers.length + 1);
      await expectSameModel("restarted/tiny:1");
    } finally {
      proxy.stop();
    }
  });

  test("a blob changed on disk is the registry's DIGEST_INVALID, an integrity error; no manifest is pushed", async () => {
    const name = `${registry.host}/corrupted/tiny:1`;
    const power = await localCopy(name);
    const weights = tiny.layers[0]!;
    const path = power.store.blobPath(weights.digest);
    const bytes = readFileSync(path);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    await expectA3sErrorAsync(pushModel(power, { name }), "integrity", /DIGEST_INVALID/);
    const manifest = await fetch(`${registry.url}/v2/corrupted/tiny/manifests/1`, { method: "HEAD" });
    expect(manifest.status).toBe(404);
  });

  test("registry.ollama.ai is refused before any request; unknown models are not found", async () => {
    // The model exists under an Ollama name, so nothing but the refusal stops the push; any request
    // would have ended in a network error here rather than a usage error.
    const power = await localCopy("registry.ollama.ai/me/tiny:1");
    await expectA3sErrorAsync(
      pushModel(power, { name: "registry.ollama.ai/me/tiny:1" }),
      "usage",
      /key-signed/,
    );
    // Names that are not even local: the refusal comes before the store is looked at.
    for (const name of ["registry.ollama.ai/library/llama3:1", "ollama.com/library/m"]) {
      await expectA3sErrorAsync(pushModel(power, { name }), "usage", /'library' namespace/);
    }
    await expectA3sErrorAsync(
      pushModel(power, { name: `${registry.host}/me/absent:1` }),
      "not_found",
      /model '.*absent:1' not found/,
    );
  });
});

describe("power push with basic auth", () => {
  let secured: Registry;
  beforeAll(async () => {
    secured = await startRegistry({ auth: "basic", users: { ann: "secret" } });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  test("credentials go to the registry only, not to an upload Location on another host", async () => {
    const basic = `Basic ${Buffer.from("ann:secret").toString("base64")}`;
    const uploads = await startProxy({ target: secured, authorization: basic });
    const front = await startProxy({ target: secured, uploadHost: uploads.host });
    try {
      const home = mkdtempSync(join(tmpdir(), "a3s-push-basic-"));
      const auths = { [front.host]: { auth: Buffer.from("ann:secret").toString("base64") } };
      writeFileSync(join(home, "auth.json"), JSON.stringify({ auths }));
      const power = openPowerContext(pathsFor(home), {
        A3S_POWER_REGISTRY: registry.host,
        DOCKER_CONFIG: home,
      });
      const name = `${front.host}/ann/tiny:1`;
      await localCopy(name, power);
      await pushModel(power, { name });
      const patches = uploads.requests.filter((r) => r.method === "PATCH");
      expect(patches.length).toBe(tiny.layers.length + 1);
      expect(uploads.requests.filter((r) => r.authorization)).toEqual([]);
      expect(front.requests.filter((r) => r.method === "PUT" && r.path.includes("/manifests/"))).toEqual([
        expect.objectContaining({ authorization: true }),
      ]);
      const stored = await fetch(`${secured.url}/v2/ann/tiny/manifests/1`, {
        method: "HEAD",
        headers: { authorization: basic, accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      expect(stored.headers.get("docker-content-digest")).toBe(tiny.manifestDigest);
    } finally {
      uploads.stop();
      front.stop();
    }
  });
});

describe("power push with token auth", () => {
  let secured: Registry;
  beforeAll(async () => {
    secured = await startRegistry({ auth: "token", users: { ann: "secret" }, anonymousPull: true });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  /** A store whose a3s credentials (auth.json, as `a3s box login` writes it) are ann's, or none. */
  function withAuth(credentials: boolean): PowerContext {
    const home = mkdtempSync(join(tmpdir(), "a3s-push-auth-"));
    const auths = credentials
      ? { [secured.host]: { auth: Buffer.from("ann:secret").toString("base64") } }
      : {};
    writeFileSync(join(home, "auth.json"), JSON.stringify({ auths }));
    return openPowerContext(pathsFor(home), { A3S_POWER_REGISTRY: registry.host, DOCKER_CONFIG: home });
  }

  test("credentials get a pull,push token; without them push is a permission error", async () => {
    const name = `${secured.host}/ann/tiny:1`;
    const anonymous = await localCopy(name, withAuth(false));
    await expectA3sErrorAsync(pushModel(anonymous, { name }), "permission", /push access denied/);

    const power = await localCopy(name, withAuth(true));
    const result = await pushModel(power, { name });
    expect(result.digest).toBe(tiny.manifestDigest);
    const scopes = secured
      .tokenLog()
      .filter((t) => t.account === "ann")
      .flatMap((t) => t.scopes);
    expect(scopes).toContain("repository:ann/tiny:pull,push");
  });
});
