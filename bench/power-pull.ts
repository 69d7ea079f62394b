/**
 * Model pull throughput from one local registry (Debian's docker-registry on loopback), a ~110 MB
 * generated GGUF model, a fresh A3S_HOME per run, runs interleaved:
 *   - in process: one stream per blob vs parallel ranges (the default: 8 parts above 64 MiB);
 *   - the compiled binary's `a3s power pull` (defaults), wall time including start-up;
 *   - reference: curl of the same blob (one stream) plus sha256sum, the floor for a single stream;
 *   - one stream vs parallel ranges again through a proxy that caps each connection at 25 MB/s, as
 *     a distant CDN or a long round trip does (on loopback the CPU, not the connection, is the limit).
 *   bun bench/power-pull.ts [--runs 5] [--binary path/to/a3s]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathsFor } from "../src/core/paths.ts";
import { openPowerContext } from "../src/power/context.ts";
import { DEFAULT_PARALLEL } from "../src/power/download.ts";
import { pullModel } from "../src/power/pull.ts";
import { writeGguf } from "../tests/fixtures/gguf.ts";
import { pushModel } from "../tests/fixtures/models.ts";
import { startRegistry } from "../tests/fixtures/registry.ts";
import { stats } from "./lib/report.ts";

const ROOT = join(import.meta.dir, "..");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const RUNS = Number(flag("--runs")) || 5;
const MB = 1e6;

function progress(message: string): void {
  process.stderr.write(`· ${message}\n`);
}

const binary = flag("--binary") ?? join(ROOT, "dist", "a3s");
if (!flag("--binary")) {
  progress("building dist/a3s");
  Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: ROOT });
}
const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-power-"));
const registry = await startRegistry();
try {
  const gguf = writeGguf({
    layers: 2,
    width: 1024,
    heads: 8,
    ffn: 2816,
    contextLength: 2048,
    vocab: "spm",
    seed: 1,
  });
  const model = await pushModel(registry, "bench/model", "1", { gguf, license: "bench" });
  const weights = model.layers[0]!;
  progress(
    `pushed bench/model:1, ${(model.size / MB).toFixed(1)} MB (weights ${(weights.size / MB).toFixed(1)} MB)`,
  );

  const samples = {
    single: [] as number[],
    parallel: [] as number[],
    binary: [] as number[],
    curl: [] as number[],
  };
  const single = { threshold: Number.POSITIVE_INFINITY, maxParts: 1, minPartSize: 1 };
  for (let i = -1; i < RUNS; i++) {
    const runs: Array<[keyof typeof samples, () => Promise<void>]> = [
      ["single", () => inProcess(single)],
      ["parallel", () => inProcess(DEFAULT_PARALLEL)],
      ["binary", () => viaBinary()],
      ["curl", () => viaCurl()],
    ];
    for (let k = 0; k < runs.length; k++) {
      const [label, work] = runs[(k + i + 1) % runs.length]!;
      Bun.spawnSync(["sync"]);
      const start = performance.now();
      await work();
      if (i >= 0) samples[label].push(performance.now() - start);
    }
  }

  async function inProcess(parallel: typeof DEFAULT_PARALLEL): Promise<void> {
    const home = mkdtempSync(join(scratch, "home-"));
    const power = openPowerContext(pathsFor(home), { A3S_POWER_REGISTRY: registry.host });
    await pullModel(power, { name: "bench/model:1", parallel });
    power.db.close();
    rmSync(home, { recursive: true, force: true });
  }

  async function viaBinary(): Promise<void> {
    const home = mkdtempSync(join(scratch, "bin-"));
    const proc = Bun.spawn([binary, "power", "pull", "bench/model:1"], {
      env: { ...process.env, A3S_HOME: home, A3S_POWER_REGISTRY: registry.host },
      stdout: "ignore",
      stderr: "pipe",
    });
    if ((await proc.exited) !== 0) throw new Error(await new Response(proc.stderr).text());
    rmSync(home, { recursive: true, force: true });
  }

  async function viaCurl(): Promise<void> {
    const file = join(scratch, "curl.blob");
    const url = `${registry.url}/v2/bench/model/blobs/${weights.digest}`;
    const proc = Bun.spawn(["sh", "-c", `curl -sf -o '${file}' '${url}' && sha256sum '${file}' >/dev/null`]);
    if ((await proc.exited) !== 0) throw new Error("curl failed");
    rmSync(file, { force: true });
  }

  // Through a proxy that paces every connection to CAP bytes per second.
  const CAP = 25 * MB;
  const capped = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.delete("host");
      const upstream = await fetch(`${registry.url}${url.pathname}`, { headers });
      if (!url.pathname.includes("/blobs/") || !upstream.body) return upstream;
      const reader = upstream.body.getReader();
      const start = performance.now();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          sent += value.length;
          const due = (sent / CAP) * 1000 - (performance.now() - start);
          if (due > 0) await Bun.sleep(due);
          controller.enqueue(value);
        },
      });
      return new Response(body, { status: upstream.status, headers: upstream.headers });
    },
  });
  const cappedRuns = { single: [] as number[], parallel: [] as number[] };
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    for (const [label, parallel] of [
      ["single", single],
      ["parallel", DEFAULT_PARALLEL],
    ] as const) {
      const home = mkdtempSync(join(scratch, "capped-"));
      const power = openPowerContext(pathsFor(home), { A3S_POWER_REGISTRY: `127.0.0.1:${capped.port}` });
      const start = performance.now();
      await pullModel(power, { name: "bench/model:1", parallel });
      cappedRuns[label].push(performance.now() - start);
      power.db.close();
      rmSync(home, { recursive: true, force: true });
    }
  }
  capped.stop(true);

  const row = (label: string, values: number[], bytes: number) => {
    const s = stats(values);
    const rate = bytes / MB / (s.median / 1000);
    return `${label.padEnd(46)}${s.median.toFixed(0).padStart(7)} ms${s.min.toFixed(0).padStart(7)} ms${rate.toFixed(0).padStart(8)} MB/s`;
  };
  console.log(
    `\npower pull of a ${(model.size / MB).toFixed(0)} MB model, ${RUNS} runs, median / min / throughput`,
  );
  console.log(row("a3s in process, one stream per blob", samples.single, model.size));
  console.log(
    row(`a3s in process, ${DEFAULT_PARALLEL.maxParts} parallel ranges`, samples.parallel, model.size),
  );
  console.log(row("a3s power pull (binary, defaults)", samples.binary, model.size));
  console.log(row("curl one stream + sha256sum (weights only)", samples.curl, weights.size));
  console.log(`\nthrough a proxy capping each connection at ${CAP / MB} MB/s`);
  console.log(row("a3s in process, one stream per blob", cappedRuns.single, model.size));
  console.log(
    row(`a3s in process, ${DEFAULT_PARALLEL.maxParts} parallel ranges`, cappedRuns.parallel, model.size),
  );
} finally {
  await registry.stop();
  rmSync(scratch, { recursive: true, force: true });
}
