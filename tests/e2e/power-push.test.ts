/**
 * `a3s power push` and `POST /api/push` through the compiled binary, against Debian's docker-registry
 * on loopback: a model pulled from one repository, copied to a name in another, pushed, and pulled
 * back into a fresh home.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { writeGguf } from "../fixtures/gguf.ts";
import { type BuiltModel, pushModel as publish } from "../fixtures/models.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, BINARY, ensureBuilt, expectExit, type RunOptions, tempHome } from "./a3s.ts";

let registry: Registry;
let tiny: BuiltModel;
let home: string;

beforeAll(async () => {
  [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
  tiny = await publish(registry, "library/tiny", "1", {
    gguf: writeGguf({ layers: 2, width: 64, heads: 4, ffn: 256, contextLength: 512, vocab: "bpe", seed: 5 }),
    template: "{{ .Prompt }}",
    license: "TEST",
  });
  home = tempHome();
  expectExit(await power(["pull", "tiny:1"], home), 0);
});
afterAll(async () => {
  await registry?.stop();
});

function power(args: string[], at: string, extra: RunOptions = {}) {
  return a3s(["power", ...args], {
    home: at,
    ...extra,
    env: { A3S_POWER_REGISTRY: registry.host, ...extra.env },
  });
}

const blobs = () => [...tiny.layers, tiny.config];
const short = (digest: string) => digest.slice(7, 19);
const lines = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** The digest the registry serves for a tag, or undefined when it has no such manifest. */
async function registryDigest(repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
  });
  return response.status === 200 ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
}

describe("power push", () => {
  test("prints Ollama's status lines; --json streams them; a fresh pull gets the same model", async () => {
    const missing = expectExit(await power(["push", "me/tiny:1"], home), 3);
    expect(missing.stderr).toContain("error: model 'me/tiny:1' not found");
    expect(missing.stderr).toContain("hint: push uses the name the model has here: copy it first");

    expectExit(await power(["cp", "tiny:1", "me/tiny:1"], home), 0);
    const pushed = expectExit(await power(["push", "me/tiny:1"], home), 0);
    expect(pushed.stdout).toBe("");
    expect(pushed.stderr.trim().split("\n")).toEqual([
      "retrieving manifest",
      ...blobs().map((blob) => `pushing ${short(blob.digest)}`),
      "pushing manifest",
      "success",
    ]);
    expect(await registryDigest("me/tiny", "1")).toBe(tiny.manifestDigest);

    const again = lines(expectExit(await power(["push", "me/tiny:1", "--json"], home), 0).stdout);
    expect(again).toEqual([
      { status: "retrieving manifest" },
      ...blobs().map((blob) => ({
        status: `pushing ${short(blob.digest)}`,
        digest: blob.digest,
        total: blob.size,
        completed: blob.size,
      })),
      { status: "pushing manifest" },
      { status: "success" },
    ]);

    const fresh = tempHome();
    expectExit(await power(["pull", "me/tiny:1"], fresh), 0);
    const listed = expectExit(await power(["list", "--json"], fresh), 0).json<{
      models: Array<{ name: string; digest: string }>;
    }>();
    expect(listed.models).toEqual([
      expect.objectContaining({ name: "me/tiny:1", digest: tiny.manifestDigest.slice(7) }),
    ]);
  });

  test("Ollama's registry is a usage error (exit 2) naming the way out", async () => {
    const refused = expectExit(await power(["push", "registry.ollama.ai/library/llama3"], home), 2);
    expect(refused.stderr).toContain("error: cannot push 'registry.ollama.ai/library/llama3'");
    expect(refused.stderr).toContain("hint: push to an OCI registry instead");
    const json = expectExit(await power(["push", "ollama.com/me/m:1", "--json"], home), 2);
    expect(json.json<{ error: { code: string } }>().error.code).toBe("usage");
  });

  test("Ctrl-C during an upload exits 130", async () => {
    // A registry front that never answers PATCH: the push sits in its first chunk until interrupted.
    const stall = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      async fetch(request) {
        const url = new URL(request.url);
        if (request.method === "PATCH") {
          await new Promise((resolve) => request.signal.addEventListener("abort", resolve));
          return new Response(null, { status: 499 });
        }
        const upstream = await fetch(`${registry.url}${url.pathname}${url.search}`, {
          method: request.method,
          headers: request.headers,
          redirect: "manual",
        });
        const headers = new Headers(upstream.headers);
        const location = headers.get("location");
        if (location)
          headers.set("location", location.replace(registry.url, `http://127.0.0.1:${stall.port}`));
        return new Response(upstream.body, { status: upstream.status, headers });
      },
    });
    try {
      const name = `127.0.0.1:${stall.port}/stalled/tiny:1`;
      expectExit(await power(["cp", "tiny:1", name], home), 0);
      const child = Bun.spawn([BINARY, "power", "push", name], {
        env: { ...process.env, A3S_HOME: home, A3S_POWER_REGISTRY: registry.host },
        stdout: "pipe",
        stderr: "pipe",
      });
      const decoder = new TextDecoder();
      let stderr = "";
      for await (const chunk of child.stderr as ReadableStream<Uint8Array>) {
        stderr += decoder.decode(chunk);
        if (stderr.includes("pushing ")) break;
      }
      child.kill("SIGINT");
      expect(await child.exited).toBe(130);
    } finally {
      await stall.stop(true);
    }
  });
});

describe("POST /api/push", () => {
  let server: ReturnType<typeof Bun.spawn>;
  let url: string;
  beforeAll(async () => {
    server = Bun.spawn([BINARY, "power", "serve", "--port", "0", "--json"], {
      env: { ...process.env, A3S_HOME: home, A3S_POWER_REGISTRY: registry.host },
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    url = (JSON.parse(new TextDecoder().decode(value).split("\n")[0] ?? "") as { url: string }).url;
  });
  afterAll(async () => {
    server?.kill("SIGTERM");
    await server?.exited;
  });

  const push = (body: object) => fetch(`${url}/api/push`, { method: "POST", body: JSON.stringify(body) });

  test("streams Ollama's push messages as NDJSON, or answers one success", async () => {
    const missing = await push({ model: "served/tiny:1" });
    expect(lines(await missing.text())).toEqual([{ error: "model 'served/tiny:1' not found" }]);

    const copied = await fetch(`${url}/api/copy`, {
      method: "POST",
      body: JSON.stringify({ source: "tiny:1", destination: "served/tiny:1" }),
    });
    expect(copied.status).toBe(200);
    const streamed = await push({ model: "served/tiny:1" });
    expect(streamed.headers.get("content-type")).toContain("application/x-ndjson");
    const events = lines(await streamed.text());
    expect(events[0]).toEqual({ status: "retrieving manifest" });
    expect(events.slice(-2)).toEqual([{ status: "pushing manifest" }, { status: "success" }]);
    for (const blob of blobs()) {
      expect(events).toContainEqual({
        status: `pushing ${short(blob.digest)}`,
        digest: blob.digest,
        total: blob.size,
        completed: blob.size,
      });
    }
    expect(await registryDigest("served/tiny", "1")).toBe(tiny.manifestDigest);

    const once = await push({ model: "served/tiny:1", stream: false });
    expect(once.status).toBe(200);
    expect(await once.json()).toEqual({ status: "success" });

    // The official client, streamed and not.
    const ollama = new Ollama({ host: url });
    const statuses: string[] = [];
    for await (const part of await ollama.push({ model: "served/tiny:1", stream: true }))
      statuses.push(part.status);
    expect(statuses.at(0)).toBe("retrieving manifest");
    expect(statuses.at(-1)).toBe("success");
    expect((await ollama.push({ model: "served/tiny:1" })).status).toBe("success");

    const refused = await push({ name: "registry.ollama.ai/library/tiny:1" });
    expect(lines(await refused.text())[0]?.error).toMatch(/cannot push/);
  });
});
