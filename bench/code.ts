/**
 * The coding agent's figures (issue 9), in one process, against the scripted fake provider:
 *  1. agent overhead per turn beyond provider time (target < 5 ms), against the provider client
 *     alone sending the same requests, and how it grows with the conversation (bench/lib/code-loop.ts);
 *  2. the TUI streaming 200 tokens/s (and faster, for headroom) without dropped or reordered text,
 *     with event-loop lag, render time per frame and CPU (bench/lib/code-tui.tsx);
 *  3. `a3s code run` cold start to the first model request (target < 150 ms), beside `--version` and
 *     a compiled hello-world (bench/lib/code-cold.ts).
 *   bun bench/code.ts [--turns 100] [--seconds 5] [--rates 200,1000] [--history 100] [--runs 15]
 *                     [--only loop,tui,cold] [--binary path/to/a3s]
 * The TUI runs React's development build unless NODE_ENV=production, as the compiled binary does today.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeProvider } from "../tests/fixtures/fake-provider.ts";
import { buildHello, measureCold } from "./lib/code-cold.ts";
import { measureLoop, type TurnSample } from "./lib/code-loop.ts";
import type { TuiResult } from "./lib/code-tui.tsx";
import { formatTable, type Row, stats } from "./lib/report.ts";

const ROOT = join(import.meta.dir, "..");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const TURNS = Number(flag("--turns")) || 100;
const SECONDS = Number(flag("--seconds")) || 5;
const RATES = (flag("--rates") ?? "200,1000").split(",").map(Number);
const HISTORY_KB = Number(flag("--history")) || 100;
const RUNS = Number(flag("--runs")) || 15;
const ONLY = new Set((flag("--only") ?? "loop,tui,cold").split(","));
const OVERHEAD_TARGET_MS = 5;
const COLD_TARGET_MS = 150;
/** The streaming rate the issue sets; other rates show headroom. */
const TARGET_RATE = 200;
/** One frame at Ink's 30 fps: a renderer that blocks longer than this visibly stutters. */
const FRAME_MS = 33;
const progress = (message: string) => process.stderr.write(`· ${message}\n`);

function loopReport(samples: TurnSample[]): string {
  const pick = (list: TurnSample[], f: (s: TurnSample) => number) => stats(list.map(f));
  const overhead = (s: TurnSample) => s.wallMs - s.providerMs;
  // Ten turns at the start, around turn 50 and at the end: does the cost grow with the conversation?
  const windows = [...new Set([0, 40, samples.length - 10])].filter(
    (from) => from >= 0 && from + 10 <= samples.length,
  );
  const rows: Row[] = [
    {
      label: "turn wall (ref: client alone, same reqs)",
      a3s: pick(samples, (s) => s.wallMs),
      ref: pick(samples, (s) => s.refMs),
      target: { kind: "overhead", value: OVERHEAD_TARGET_MS },
    },
    {
      label: "overhead: wall − provider wait",
      a3s: pick(samples, overhead),
      target: { kind: "ms", value: OVERHEAD_TARGET_MS },
    },
    { label: "  loop only (− read tool run too)", a3s: pick(samples, (s) => overhead(s) - s.toolMs) },
    { label: "  read tool run", a3s: pick(samples, (s) => s.toolMs) },
    {
      label: "provider wait (ref: client alone)",
      a3s: pick(samples, (s) => s.providerMs),
      ref: pick(samples, (s) => s.refMs),
    },
    ...windows.map(
      (from): Row => ({
        label: `overhead, turns ${from + 1}–${from + 10} (${samples[from + 9]?.messages} msgs)`,
        a3s: pick(samples.slice(from, from + 10), overhead),
        target: { kind: "ms", value: OVERHEAD_TARGET_MS },
      }),
    ),
  ];
  return formatTable(
    `agent loop, ${samples.length} turns of read + answer (2 model requests each; ms per turn)`,
    rows,
    { p90: true },
  );
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function tuiReport(results: TuiResult[]): string {
  const ms = (value: number) => value.toFixed(1).padStart(7);
  const head = [
    "rate/s".padEnd(8),
    "hist KB".padStart(7),
    "tokens".padStart(7),
    "  text  ",
    "lag p99",
    "lag max",
    "rdr med",
    "rdr max",
    "frames".padStart(7),
    "CPU %".padStart(7),
    "lat med",
    "lat p90",
    "lat max",
    "KB/s".padStart(7),
    "clears".padStart(7),
    "  target",
  ].join(" ");
  const lines = results.map((r) => {
    const smooth = percentile(r.lagMs, 0.99) < FRAME_MS;
    const verdict =
      `${r.rate === TARGET_RATE ? "" : "headroom: "}text ${r.exact ? "ok" : "MISSED"}, ` +
      `lag p99 ${smooth ? "<" : "≥"} ${FRAME_MS} ${smooth ? "ok" : "MISSED"}`;
    return [
      String(r.rate).padEnd(8),
      String(r.historyKb).padStart(7),
      String(r.tokens).padStart(7),
      r.exact ? "  exact " : " BROKEN ",
      ms(percentile(r.lagMs, 0.99)),
      ms(percentile(r.lagMs, 1)),
      ms(percentile(r.renderMs, 0.5)),
      ms(percentile(r.renderMs, 1)),
      String(r.frames).padStart(7),
      ms((r.cpuMs / (r.seconds * 1000)) * 100),
      ms(percentile(r.latencyMs, 0.5)),
      ms(percentile(r.latencyMs, 0.9)),
      ms(percentile(r.latencyMs, 1)),
      ms(r.bytesWritten / 1024 / r.seconds),
      String(r.clears).padStart(7),
      `  ${verdict}`,
    ].join(" ");
  });
  const problems = results.flatMap((r) => (r.problem ? [`${r.rate}/s: ${r.problem}`] : []));
  return [
    `TUI streaming an answer for ${SECONDS} s into a 100×40 terminal (React ${process.env.NODE_ENV === "production" ? "production" : "development"} build; ms)`,
    head,
    ...lines,
    ...problems,
    "lag: delay of a 10 ms interval timer; rdr: Ink's render per frame; CPU: % of one core while streaming; " +
      "lat: token emitted → first written to the terminal; clears: frames that erased screen and scrollback " +
      "to redraw everything; hist: a resumed conversation above the answer; text: every token on the replayed screen once, in order. A token is a word (~7 chars).",
  ].join("\n");
}

const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-code-"));
const fake = await startFakeProvider();
try {
  if (ONLY.has("loop")) {
    progress(`agent loop: ${TURNS} turns against the fake provider`);
    const samples = await measureLoop(fake, scratch, { turns: TURNS, warmup: 5 });
    console.log(`${loopReport(samples)}\n`);
  }

  if (ONLY.has("tui")) {
    // Ink decides at import whether it runs in CI (and then only prints static output).
    process.env.CI = "0";
    const { measureTui } = await import("./lib/code-tui.tsx");
    const results: TuiResult[] = [];
    for (const rate of RATES) {
      progress(`TUI: ${rate} tokens/s for ${SECONDS} s`);
      results.push(await measureTui(rate, SECONDS));
    }
    progress(`TUI: ${TARGET_RATE} tokens/s for ${SECONDS} s below ${HISTORY_KB} KB of earlier conversation`);
    results.push(await measureTui(TARGET_RATE, SECONDS, HISTORY_KB));
    console.log(`${tuiReport(results)}\n`);
  }

  if (ONLY.has("cold")) {
    let binary = flag("--binary");
    if (!binary) {
      progress("building dist/a3s");
      const built = Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: ROOT, stderr: "pipe" });
      if (built.exitCode !== 0) throw new Error(`build failed: ${built.stderr}`);
      binary = join(ROOT, "dist", "a3s");
    }
    const hello = buildHello(scratch);
    progress(`cold start: ${RUNS} runs of each case`);
    const cold = await measureCold(fake, scratch, { binary, hello, runs: RUNS, warmup: 2 });
    console.log(
      formatTable(
        `cold start of the compiled binary, ${RUNS} runs (ms)`,
        [
          {
            label: 'code run "hi" → request (ref --version)',
            a3s: stats(cold.toRequest),
            ref: stats(cold.version),
            target: { kind: "ms", value: COLD_TARGET_MS },
          },
          { label: "a3s --version (ref: hello-world)", a3s: stats(cold.version), ref: stats(cold.hello) },
          { label: 'code run "hi": spawn → exit', a3s: stats(cold.toExit) },
        ],
        { p90: true },
      ),
    );
  }
} finally {
  await fake.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(0);
