/**
 * Inference through `a3s power serve` against node-llama-cpp called directly, in one run, on the
 * same generated ~100 MB GGUF model (pulled from a local registry), same threads, context,
 * sequences and sampling; runs alternate so both see the same machine state:
 *   - decode: ms per token between the first and last streamed token of POST /api/generate
 *     (client side) vs between the first and last token of LlamaCompletion in process;
 *   - time to first token: from sending the request to the first streamed chunk, vs from the call
 *     to the first token. Each run uses a new prompt so neither side reuses a cached prefix.
 *   bun bench/power.ts [--runs 7] [--tokens 256] [--binary path/to/a3s]
 * Pull throughput against curl is bench/power-pull.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaCompletion } from "node-llama-cpp";
import { DEFAULT_OPTIONS } from "../src/power/engine/options.ts";
import { physicalCores } from "../src/power/engine/threads.ts";
import { writeGguf } from "../tests/fixtures/gguf.ts";
import { pushModel } from "../tests/fixtures/models.ts";
import { startRegistry } from "../tests/fixtures/registry.ts";
import { formatTable, stats } from "./lib/report.ts";

const ROOT = join(import.meta.dir, "..");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const RUNS = Number(flag("--runs")) || 7;
const TOKENS = Number(flag("--tokens")) || 256;
const THREADS = physicalCores();
const PARALLEL = 2;
const progress = (message: string) => process.stderr.write(`· ${message}\n`);

const binary = flag("--binary") ?? join(ROOT, "dist", "a3s");
if (!flag("--binary")) {
  progress("building dist/a3s");
  Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: ROOT });
}

const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-power-"));
const home = join(scratch, ".a3s");
mkdirSync(home, { recursive: true });
writeFileSync(join(home, "config.json"), JSON.stringify({ power: { threads: THREADS, parallel: PARALLEL } }));
const registry = await startRegistry();
let server: ReturnType<typeof Bun.spawn> | undefined;

interface Sample {
  ttftMs: number;
  msPerToken: number;
  tokens: number;
}

try {
  const gguf = writeGguf({
    layers: 8,
    width: 512,
    heads: 8,
    ffn: 1536,
    contextLength: 4096,
    vocab: "spm",
    seed: 7,
  });
  const model = await pushModel(registry, "bench/gen", "1", { gguf });
  progress(
    `model ${(gguf.length / 1e6).toFixed(0)} MB, ${TOKENS} tokens per run, ${THREADS} threads, ${RUNS} runs`,
  );
  const env = { ...process.env, A3S_HOME: home, A3S_POWER_REGISTRY: registry.host };
  const pulled = Bun.spawnSync([binary, "power", "pull", "bench/gen:1"], { env, stdout: "ignore" });
  if (pulled.exitCode !== 0) throw new Error(pulled.stderr.toString());
  const weights = join(home, "power/models/blobs", `sha256-${model.layers[0]!.digest.slice(7)}`);

  server = Bun.spawn([binary, "power", "serve", "--port", "0", "--json"], {
    env,
    stdout: "pipe",
    stderr: "ignore",
  });
  const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
  const url = (
    JSON.parse(new TextDecoder().decode((await reader.read()).value).split("\n")[0]!) as { url: string }
  ).url;
  reader.releaseLock();

  const sampling = {
    temperature: DEFAULT_OPTIONS.temperature,
    topK: DEFAULT_OPTIONS.top_k,
    topP: DEFAULT_OPTIONS.top_p,
    minP: DEFAULT_OPTIONS.min_p,
    repeatPenalty: { lastTokens: DEFAULT_OPTIONS.repeat_last_n, penalty: DEFAULT_OPTIONS.repeat_penalty },
  };
  const llama = await getLlama({ gpu: false, build: "never" });
  const direct = await llama.loadModel({ modelPath: weights });
  const context = await direct.createContext({
    contextSize: DEFAULT_OPTIONS.num_ctx,
    sequences: PARALLEL,
    threads: THREADS,
    batchSize: DEFAULT_OPTIONS.num_batch,
  });
  const sequence = context.getSequence();

  async function viaNodeLlamaCpp(prompt: string, seed: number): Promise<Sample> {
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    const start = performance.now();
    let first = 0;
    let last = 0;
    let tokens = 0;
    await completion.generateCompletion(prompt, {
      ...sampling,
      seed,
      maxTokens: TOKENS,
      onToken(chunk) {
        last = performance.now();
        if (first === 0) first = last;
        tokens += chunk.length;
      },
    });
    completion.dispose({ disposeSequence: false });
    return { ttftMs: first - start, msPerToken: (last - first) / Math.max(1, tokens - 1), tokens };
  }

  async function viaServer(prompt: string, seed: number): Promise<Sample> {
    const start = performance.now();
    const response = await fetch(`${url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({
        model: "bench/gen:1",
        prompt,
        raw: true,
        options: { seed, num_predict: TOKENS },
      }),
    });
    let first = 0;
    let last = 0;
    let tokens = 0;
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      const now = performance.now();
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const message = JSON.parse(line) as { response?: string; done: boolean; eval_count?: number };
        if (message.done) tokens = message.eval_count ?? 0;
        else if (message.response) {
          if (first === 0) first = now;
          last = now;
        }
      }
    }
    return { ttftMs: first - start, msPerToken: (last - first) / Math.max(1, tokens - 1), tokens };
  }

  // Loads the model in the server and warms both sides.
  await viaServer("warm up", 1);
  await viaNodeLlamaCpp("warm up", 1);
  const samples = { server: [] as Sample[], direct: [] as Sample[] };
  for (let i = 0; i < RUNS; i++) {
    const prompt = `Run ${i}: the quick brown fox jumps over the lazy dog`;
    const order = i % 2 === 0 ? (["server", "direct"] as const) : (["direct", "server"] as const);
    for (const who of order) {
      samples[who].push(
        who === "server" ? await viaServer(prompt, 100 + i) : await viaNodeLlamaCpp(prompt, 100 + i),
      );
    }
  }
  await context.dispose();
  await direct.dispose();

  const of = (list: Sample[], pick: (s: Sample) => number) => stats(list.map(pick));
  const perToken = {
    a3s: of(samples.server, (s) => s.msPerToken),
    ref: of(samples.direct, (s) => s.msPerToken),
  };
  console.log(
    formatTable(`\npower serve vs node-llama-cpp in process (${RUNS} runs; ms, lower is better)`, [
      {
        label: "decode, ms per token",
        ...perToken,
        target: { kind: "ratio", value: Number((1 / 0.95).toFixed(3)) },
      },
      {
        label: "time to first token",
        a3s: of(samples.server, (s) => s.ttftMs),
        ref: of(samples.direct, (s) => s.ttftMs),
        target: { kind: "overhead", value: 5 },
      },
    ]),
  );
  const rate = (ms: number) => (1000 / ms).toFixed(1);
  console.log(
    `decode rate: a3s ${rate(perToken.a3s.median)} tokens/s, node-llama-cpp ${rate(perToken.ref.median)} tokens/s ` +
      `(${((perToken.ref.median / perToken.a3s.median) * 100).toFixed(1)}%; target ≥ 95%); ` +
      `tokens per run: a3s ${samples.server.map((s) => s.tokens).join(",")}, direct ${samples.direct.map((s) => s.tokens).join(",")}`,
  );
} finally {
  server?.kill("SIGTERM");
  await server?.exited;
  await registry.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(0);
