/**
 * The model commands through the compiled binary (pull, list, show, cp, rm), against a real registry
 * on loopback holding Ollama-style models: generated GGUF weights plus template, system, params and
 * license layers. The registry is chosen the way users choose one: A3S_POWER_REGISTRY.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { humanBytes } from "../../cli/power/render-progress.ts";
import { parameterCount, parseGgufHeader } from "../../src/power/gguf.ts";
import { humanNumber, type ShowResponse } from "../../src/power/show.ts";
import { LLAMA3_CHAT_TEMPLATE, writeGguf } from "../fixtures/gguf.ts";
import { type BuiltModel, pushModel, registryBlobPath } from "../fixtures/models.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, BINARY, ensureBuilt, expectExit, type RunOptions, tempHome } from "./a3s.ts";

const TEMPLATE =
  "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}" +
  "<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>";
const LICENSE = "TINY TEST LICENSE\nVersion 1\n\nUse it for tests only.";

let registry: Registry;
let tiny: BuiltModel;
let tiny2: BuiltModel;
let corrupt: BuiltModel;
/** What show and list should report for tiny's weights. */
let parameters: string;

beforeAll(async () => {
  [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
  const gguf = writeGguf({
    layers: 2,
    width: 64,
    heads: 4,
    headsKv: 2,
    ffn: 256,
    contextLength: 512,
    vocab: "bpe",
    seed: 1,
    chatTemplate: LLAMA3_CHAT_TEMPLATE,
  });
  parameters = humanNumber(parameterCount(parseGgufHeader(gguf)));
  tiny = await pushModel(registry, "library/tiny", "1", {
    gguf,
    template: TEMPLATE,
    system: "You are a tiny test model.",
    params: { stop: ["<|start_header_id|>", "<|eot_id|>"], temperature: 0.6 },
    license: LICENSE,
    config: { model_family: "llama", model_families: ["llama"], file_type: "F32" },
  });
  // Same weights, another license: the GGUF blob is shared between the two tags.
  tiny2 = await pushModel(registry, "library/tiny", "2", { gguf, template: TEMPLATE, license: "OTHER" });
  corrupt = await pushModel(registry, "library/corrupt", "1", {
    gguf: writeGguf({ layers: 1, width: 64, heads: 4, ffn: 128, contextLength: 64, vocab: "spm", seed: 9 }),
    license: "corrupt",
  });
});
afterAll(async () => {
  await registry?.stop();
});

function power(args: string[], home: string, extra: RunOptions = {}) {
  return a3s(["power", ...args], {
    home,
    ...extra,
    env: { A3S_POWER_REGISTRY: registry.host, ...extra.env },
  });
}

const blobsDir = (home: string) => join(home, "power/models/blobs");
const blobFile = (home: string, digest: string) => join(blobsDir(home), `sha256-${digest.slice(7)}`);
const blobFiles = (home: string) => (existsSync(blobsDir(home)) ? readdirSync(blobsDir(home)).sort() : []);

describe("power pull / list / show / cp / rm", () => {
  test("pull prints Ollama's status lines; --json streams Ollama's messages", async () => {
    const home = tempHome();
    const pulled = expectExit(await power(["pull", "tiny:1"], home), 0);
    expect(pulled.stdout).toBe("");
    const lines = pulled.stderr.trim().split("\n");
    expect(lines[0]).toBe("pulling manifest");
    expect(lines.slice(1, -3)).toEqual(
      [...tiny.layers, tiny.config].map((b) => `pulling ${b.digest.slice(7, 19)}`),
    );
    expect(lines.slice(-3)).toEqual(["verifying sha256 digest", "writing manifest", "success"]);
    const manifest = join(home, `power/models/manifests/${registry.host}/library/tiny/1`);
    expect(new Uint8Array(readFileSync(manifest))).toEqual(new Uint8Array(tiny.manifestBytes));
    expect(blobFiles(home)).toEqual(
      [...tiny.layers, tiny.config].map((b) => `sha256-${b.digest.slice(7)}`).sort(),
    );

    const again = expectExit(await power(["pull", "tiny:1", "--json"], home), 0);
    const events = again.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0]).toEqual({ status: "pulling manifest" });
    const weights = tiny.layers[0]!;
    expect(events).toContainEqual({
      status: `pulling ${weights.digest.slice(7, 19)}`,
      digest: weights.digest,
      total: weights.size,
      completed: weights.size,
    });
    expect(events.slice(-3)).toEqual([
      { status: "verifying sha256 digest" },
      { status: "writing manifest" },
      { status: "success" },
    ]);
  });

  test("list shows Ollama's table and /api/tags; show gives the GGUF metadata", async () => {
    const home = tempHome();
    expectExit(await power(["pull", "tiny:1"], home), 0);

    const table = expectExit(await power(["list"], home), 0).stdout.split("\n");
    expect(table[0]).toMatch(/^NAME {4,}ID {14}SIZE {4,}MODIFIED$/);
    expect(table[1]).toMatch(
      new RegExp(
        `^tiny:1 {4,}${tiny.manifestDigest.slice(7, 19)} {4}${humanBytes(tiny.size)} {4}Less than a second ago$`,
      ),
    );
    const tags = expectExit(await power(["list", "--json"], home), 0).json<{
      models: Array<Record<string, unknown>>;
    }>();
    expect(tags.models).toEqual([
      {
        name: "tiny:1",
        model: "tiny:1",
        modified_at: expect.any(String),
        size: tiny.size,
        digest: tiny.manifestDigest.slice(7),
        details: {
          parent_model: "",
          format: "gguf",
          family: "llama",
          families: ["llama"],
          parameter_size: parameters,
          quantization_level: "F32",
        },
      },
    ]);

    const text = expectExit(await power(["show", "tiny:1"], home), 0).stdout;
    expect(text).toContain(
      [
        "  Model",
        "    architecture        llama",
        `    parameters          ${parameters}`,
        "    context length      512",
        "    embedding length    64",
        "    quantization        F32",
      ].join("\n"),
    );
    expect(text).toContain('  Parameters\n    stop           "<|start_header_id|>"\n');
    expect(text).toContain("  License\n    TINY TEST LICENSE\n    Version 1\n    ...\n");

    const show = expectExit(await power(["show", "tiny:1", "--json"], home), 0).json<ShowResponse>();
    expect(Object.keys(show)).toEqual([
      "license",
      "modelfile",
      "parameters",
      "template",
      "system",
      "details",
      "model_info",
      "capabilities",
      "modified_at",
    ]);
    expect(show.license).toBe(LICENSE);
    expect(show.template).toBe(TEMPLATE);
    expect(show.system).toBe("You are a tiny test model.");
    expect(show.parameters).toBe(
      `stop                           "<|start_header_id|>"\nstop                           "<|eot_id|>"\ntemperature                    0.6`,
    );
    expect(show.model_info).toMatchObject({
      "general.architecture": "llama",
      "general.file_type": 0,
      "llama.context_length": 512,
      "llama.embedding_length": 64,
      "llama.block_count": 2,
      "llama.attention.head_count_kv": 2,
      "tokenizer.ggml.tokens": null,
    });
    expect(show.model_info?.["general.parameter_count"]).toBeGreaterThan(200_000);
    expect(show.modelfile).toContain(`FROM ${blobFile(home, tiny.layers[0]!.digest)}\n`);
    expect(show.modelfile).toContain("PARAMETER temperature 0.6\n");

    expect(expectExit(await power(["show", "tiny:1", "--template"], home), 0).stdout).toBe(`${TEMPLATE}\n`);
    expect(expectExit(await power(["show", "tiny:1", "--license"], home), 0).stdout).toBe(`${LICENSE}\n`);
    expect(expectExit(await power(["show", "tiny:1", "--parameters"], home), 0).stdout).toStartWith("stop ");
    expect(expectExit(await power(["show", "tiny:1", "--modelfile"], home), 0).stdout).toStartWith(
      "# Modelfile generated by",
    );
    const verbose = expectExit(await power(["show", "tiny:1", "-v", "--json"], home), 0).json<ShowResponse>();
    expect((verbose.model_info?.["tokenizer.ggml.tokens"] as string[] | undefined)?.length).toBeGreaterThan(
      256,
    );
    expect(verbose.tensors?.[0]).toEqual({
      name: "token_embd.weight",
      type: "F32",
      shape: [64, expect.any(Number)],
    });

    const both = expectExit(await power(["show", "tiny:1", "--license", "--template"], home), 2);
    expect(both.stderr).toContain("only one of");
    expect(expectExit(await power(["show", "nope"], home), 3).stderr).toContain("model 'nope' not found");
  });

  test("cp shares blobs; rm deletes a blob only when its last user is gone", async () => {
    const home = tempHome();
    expectExit(await power(["pull", "tiny:1"], home), 0);
    expectExit(await power(["pull", "tiny:2"], home), 0);
    const weights = tiny.layers[0]!.digest;
    expect(tiny2.layers[0]!.digest).toBe(weights);

    expect(expectExit(await power(["cp", "tiny:2", "me/tiny:copy"], home), 0).stdout).toBe(
      "copied 'tiny:2' to 'me/tiny:copy'\n",
    );
    const names = (await power(["list", "--json"], home)).json<{ models: Array<{ name: string }> }>();
    expect(names.models.map((m) => m.name).sort()).toEqual(["me/tiny:copy", "tiny:1", "tiny:2"]);

    expect(expectExit(await power(["rm", "tiny:1"], home), 0).stdout).toBe("deleted 'tiny:1'\n");
    expect(existsSync(blobFile(home, weights))).toBe(true);
    expect(existsSync(blobFile(home, tiny.layers.at(-1)!.digest))).toBe(false); // tiny:1's own license

    expectExit(await power(["rm", "tiny:2"], home), 0);
    expect(existsSync(blobFile(home, weights))).toBe(true); // the copy still uses it
    const removed = expectExit(await power(["rm", "me/tiny:copy", "--json"], home), 0).json<{
      deleted: Array<{ name: string; blobs: string[] }>;
    }>();
    expect(removed.deleted[0]?.name).toBe("me/tiny:copy");
    expect(removed.deleted[0]?.blobs).toContain(weights);
    expect(blobFiles(home)).toEqual([]);
    expect(expectExit(await power(["list"], home), 0).stdout).toBe("NAME    ID    SIZE    MODIFIED\n");
    expect(expectExit(await power(["rm", "tiny:1"], home), 3).stderr).toContain("model 'tiny:1' not found");
  });

  test("a corrupt blob fails the pull with an integrity error and leaves nothing behind", async () => {
    const data = registryBlobPath(registry, corrupt.layers[0]!.digest);
    const bytes = readFileSync(data);
    const flip = () => {
      bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
      writeFileSync(data, bytes);
    };
    flip();
    try {
      const home = tempHome();
      const failed = expectExit(await power(["pull", "corrupt:1"], home), 6);
      expect(failed.stderr).toContain(`error: blob ${corrupt.layers[0]!.digest} failed verification`);
      expect(blobFiles(home)).toEqual([]);
      expect(existsSync(join(home, "power/models/manifests"))).toBe(false);
      expect((await power(["list", "--json"], home)).json()).toEqual({ models: [] });
      const json = expectExit(await power(["pull", "corrupt:1", "--json"], home), 6);
      expect(json.stdout.trim().split("\n").at(-1)).toContain('"code":"integrity"');
    } finally {
      flip();
    }
  });

  test("a partial download is resumed, and Ctrl-C keeps what was fetched", async () => {
    const home = tempHome();
    const weights = tiny.layers[0]!;
    const half = Math.floor(weights.size / 2);
    mkdirSync(blobsDir(home), { recursive: true });
    writeFileSync(
      join(blobsDir(home), `sha256-${weights.digest.slice(7)}-partial`),
      weights.data.subarray(0, half),
    );
    const resumed = expectExit(await power(["pull", "tiny:1", "--json"], home), 0);
    const first = resumed.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((e) => e.digest === weights.digest);
    expect(first.completed).toBeGreaterThanOrEqual(half);
    expect(new Uint8Array(readFileSync(blobFile(home, weights.digest)))).toEqual(
      new Uint8Array(weights.data),
    );

    // A registry that stalls after 100 kB: interrupt the pull, then finish it from where it stopped.
    const stalled = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      async fetch(request) {
        const url = new URL(request.url);
        const upstream = await fetch(`${registry.url}${url.pathname}`, { headers: request.headers });
        if (!url.pathname.includes("/blobs/") || !upstream.body) return upstream;
        const reader = upstream.body.getReader();
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) return controller.close();
            if (sent > 100_000) {
              await new Promise((resolve) => request.signal.addEventListener("abort", resolve));
              return controller.close();
            }
            sent += value.length;
            controller.enqueue(value);
          },
        });
        return new Response(body, { status: upstream.status, headers: upstream.headers });
      },
    });
    const other = tempHome();
    try {
      const child = Bun.spawn([BINARY, "power", "pull", "tiny:1", "--json"], {
        env: { ...process.env, A3S_HOME: other, A3S_POWER_REGISTRY: `127.0.0.1:${stalled.port}` },
        stdout: "pipe",
        stderr: "pipe",
      });
      const partial = join(blobsDir(other), `sha256-${weights.digest.slice(7)}-partial`);
      for (let i = 0; i < 200 && !(existsSync(partial) && readFileSync(partial).length > 100_000); i++) {
        await Bun.sleep(50);
      }
      child.kill("SIGINT");
      expect(await child.exited).toBe(130);
      expect(await new Response(child.stdout).text()).toContain('"code":"interrupted"');
    } finally {
      stalled.stop(true);
    }
    const kept = readFileSync(join(blobsDir(other), `sha256-${weights.digest.slice(7)}-partial`)).length;
    expect(kept).toBeGreaterThan(100_000);
    const finished = expectExit(await power(["pull", "tiny:1", "--json"], other), 0);
    expect(finished.stdout).toContain('"status":"success"');
    expect(existsSync(blobFile(other, weights.digest))).toBe(true);
  });
});
