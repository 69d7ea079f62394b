/**
 * Search overhead, measured against fake engines on 127.0.0.1 that answer the recorded responses
 * (widened to 20 results each) after fixed delays:
 *   - parse + rank of 8 engines × 20 results, in process (the part of latency that is a3s's);
 *   - a whole query through the core: total minus the slowest engine's delay;
 *   - the compiled binary, uncached (includes process start) and cached (end to end).
 *   bun bench/search.ts [--runs 30]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema } from "../src/core/config.ts";
import { parseBaidu } from "../src/search/engines/baidu.ts";
import { parseBing } from "../src/search/engines/bing.ts";
import { parseBrave } from "../src/search/engines/brave.ts";
import { parseDuckDuckGo } from "../src/search/engines/duckduckgo.ts";
import { parseMojeek } from "../src/search/engines/mojeek.ts";
import { parse360 } from "../src/search/engines/so360.ts";
import { parseSogou } from "../src/search/engines/sogou.ts";
import { parseWikipedia } from "../src/search/engines/wikipedia.ts";
import { parseHtml } from "../src/search/html.ts";
import { aggregate } from "../src/search/rank.ts";
import { search } from "../src/search/search.ts";
import type { EngineResult } from "../src/search/types.ts";
import { FIXTURES, startFakeEngines } from "../tests/e2e/search-engines.ts";

const ROOT = join(import.meta.dir, "..");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 30;
const RESULTS = 20;
const TIMEOUT_MS = 1_000;

interface BenchEngine {
  name: string;
  fixture: string;
  delayMs: number;
  /** Selector of one result in the page, for HTML engines. */
  selector?: string;
  parse: (text: string) => EngineResult[];
}

const ENGINES: BenchEngine[] = [
  {
    name: "duckduckgo",
    fixture: "duckduckgo/results.html",
    delayMs: 20,
    selector: "div.web-result",
    parse: (t) => parseDuckDuckGo(t),
  },
  {
    name: "brave",
    fixture: "brave/results.html",
    delayMs: 40,
    selector: 'div.snippet[data-type="web"]',
    parse: parseBrave,
  },
  { name: "bing", fixture: "bing/results.html", delayMs: 60, selector: "li.b_algo", parse: parseBing },
  {
    name: "mojeek",
    fixture: "mojeek/results.html",
    delayMs: 80,
    selector: "ul.results-standard > li",
    parse: parseMojeek,
  },
  { name: "baidu", fixture: "baidu/results.json", delayMs: 100, parse: parseBaidu },
  {
    name: "sogou",
    fixture: "sogou/results.html",
    delayMs: 120,
    selector: "div.vrwrap[id]",
    parse: (t) => parseSogou(t),
  },
  {
    name: "360search",
    fixture: "360search/results.html",
    delayMs: 140,
    selector: "li.res-list",
    parse: parse360,
  },
  { name: "wikipedia", fixture: "wikipedia/search.json", delayMs: 160, parse: (t) => parseWikipedia(t) },
];
const SLOWEST = Math.max(...ENGINES.map((e) => e.delayMs));

/** The fixture with its result blocks repeated until there are `count`, each copy on other hosts. */
function widen(engine: BenchEngine, text: string, count: number): string {
  if (engine.selector === undefined) {
    const body = JSON.parse(text);
    const list: Array<Record<string, unknown>> =
      engine.name === "baidu" ? body.feed.entry : body.query.search;
    const real = list.filter((item) => Object.keys(item).length > 0);
    const out: Array<Record<string, unknown>> = [];
    for (let i = 0; out.length < count; i++) {
      const item = { ...(real[i % real.length] as Record<string, unknown>) };
      if (i >= real.length) {
        if (typeof item.url === "string") item.url = item.url.replace("://", `://p${i}.`);
        item.title = `${item.title} (${i})`;
      }
      out.push(item);
    }
    if (engine.name === "baidu") body.feed.entry = [...out, {}];
    else body.query.search = out;
    return JSON.stringify(body);
  }
  const nodes = parseHtml(text).querySelectorAll(engine.selector);
  const first = nodes[0];
  const last = nodes.at(-1);
  if (!first || !last) throw new Error(`${engine.name}: no results in fixture`);
  const blocks = nodes.map((node) => text.slice(node.range[0], node.range[1]));
  const copies: string[] = [];
  for (let i = blocks.length; i < count; i++) {
    const block = blocks[i % blocks.length] as string;
    copies.push(block.replace(/(\/\/|%2F%2F)([a-z0-9-]+\.)/gi, `$1p${i}.$2`));
  }
  return text.slice(0, last.range[1]) + copies.join("") + text.slice(last.range[1]);
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { median: at(0.5), p90: at(0.9) };
}

const pages = new Map<string, string>();
for (const engine of ENGINES) {
  const widened = widen(engine, await Bun.file(join(FIXTURES, engine.fixture)).text(), RESULTS);
  const parsed = engine.parse(widened);
  if (parsed.length !== RESULTS)
    throw new Error(`${engine.name}: widened page parses to ${parsed.length} results`);
  pages.set(engine.name, widened);
}

// 1. parse + rank, in process.
const parseRank: number[] = [];
for (let i = 0; i < runs + 5; i++) {
  const start = performance.now();
  const runsIn = ENGINES.map((engine) => ({
    engine: engine.name,
    weight: 1,
    results: engine.parse(pages.get(engine.name) ?? ""),
  }));
  aggregate(runsIn);
  if (i >= 5) parseRank.push(performance.now() - start);
}

// 2. and 3.: fake engines with fixed delays.
const fake = await startFakeEngines(
  Object.fromEntries(
    ENGINES.map((e) => [e.name, { body: pages.get(e.name) ?? "", fixture: e.fixture, delayMs: e.delayMs }]),
  ),
);
const config = ConfigSchema.parse({
  search: { baseUrls: fake.baseUrls, cacheTtlSeconds: 0, timeoutMs: TIMEOUT_MS },
}).search;
const names = ENGINES.map((e) => e.name);
const core: number[] = [];
for (let i = 0; i < runs + 3; i++) {
  const response = await search(
    { config, env: {} },
    { query: "rust async runtime", engines: names, limit: 200 },
  );
  if (response.engines.some((e) => e.error)) throw new Error(JSON.stringify(response.engines));
  if (i >= 3) core.push(response.tookMs - SLOWEST);
}

Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
const binary = join(ROOT, "dist", "a3s");
const home = join(mkdtempSync(join(tmpdir(), "a3s-bench-search-")), ".a3s");
const env = { ...process.env, A3S_HOME: home, A3S_SEARCH_BASE_URLS: JSON.stringify(fake.baseUrls) } as Record<
  string,
  string
>;
async function timeBinary(extra: string[]): Promise<number> {
  const start = performance.now();
  const child = Bun.spawn(
    [
      binary,
      "search",
      "rust async runtime",
      "-e",
      names.join(","),
      "-t",
      String(TIMEOUT_MS),
      "--json",
      ...extra,
    ],
    {
      env,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [code] = await Promise.all([child.exited, new Response(child.stdout).text()]);
  if (code !== 0) throw new Error(`a3s search exited ${code}: ${await new Response(child.stderr).text()}`);
  return performance.now() - start;
}
const uncached: number[] = [];
const cached: number[] = [];
for (let i = 0; i < runs + 2; i++) {
  const elapsed = await timeBinary(["--no-cache"]);
  if (i >= 2) uncached.push(elapsed - SLOWEST);
}
for (let i = 0; i < runs + 2; i++) {
  const elapsed = await timeBinary([]);
  if (i >= 2) cached.push(elapsed);
}
await fake.close();

const rows: Array<[string, number[], number]> = [
  ["parse + rank, 8 engines × 20 results", parseRank, 20],
  ["core query: total − slowest engine", core, 20],
  ["binary, uncached: wall − slowest engine", uncached, 0],
  ["binary, cached: wall", cached, 30],
];
console.log(
  `search, ${runs} runs each; engines answer after ${ENGINES.map((e) => e.delayMs).join("/")} ms (ms)`,
);
console.log(`${"measure".padEnd(44)}${"median".padStart(8)}${"p90".padStart(8)}${"target".padStart(9)}`);
let failed = false;
for (const [label, samples, target] of rows) {
  const { median, p90 } = stats(samples);
  const verdict = target === 0 ? "" : median < target ? `  < ${target} ok` : `  > ${target} MISSED`;
  if (target > 0 && median >= target) failed = true;
  console.log(`${label.padEnd(44)}${median.toFixed(1).padStart(8)}${p90.toFixed(1).padStart(8)}${verdict}`);
}
console.log("(the uncached binary figure includes process start and opening a3s.db; see bench/startup.ts)");
process.exitCode = failed ? 1 : 0;
