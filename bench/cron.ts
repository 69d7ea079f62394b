/**
 * cron's figures, through the compiled binary and its real daemon:
 *  - start latency: how long after its due second a job's command is running (median of 30 runs of
 *    a job every second; the job itself records `date +%s%N` next to its due time);
 *  - `cron ls --json` with 10,000 jobs (reference: the same command with no jobs, the startup floor);
 *  - the daemon's CPU while idle with those 10,000 jobs (it sleeps until the next due time).
 *   bun bench/cron.ts [--runs 30]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathsFor } from "../src/core/paths.ts";
import { openCronContext } from "../src/cron/context.ts";
import { addJob } from "../src/cron/jobs.ts";
import { formatTable, type Row, stats } from "./lib/report.ts";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "a3s");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 30;
const JOBS = 10_000;
const IDLE_SECONDS = 10;
const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s

function a3s(home: string, args: string[]): string {
  const result = Bun.spawnSync([BINARY, ...args], {
    env: { ...process.env, A3S_HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (result.exitCode !== 0)
    throw new Error(`a3s ${args.join(" ")} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout.toString();
}

function time(home: string, args: string[], times: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < times + 2; i++) {
    const start = performance.now();
    a3s(home, args);
    if (i >= 2) samples.push(performance.now() - start); // the first runs warm the page cache
  }
  return samples;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

const build = Bun.spawnSync([process.execPath, "scripts/build.ts"], {
  cwd: ROOT,
  stdout: "ignore",
  stderr: "pipe",
});
if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr}`);
const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-cron-"));

// ---- start latency -------------------------------------------------------------------------------
const latencyHome = join(scratch, "latency");
const ticks = join(scratch, "ticks");
a3s(latencyHome, [
  "cron",
  "add",
  "* * * * * *",
  "--name",
  "tick",
  "--",
  `echo "$A3S_CRON_SCHEDULED_FOR $(date +%s%N)" >> ${ticks}`,
]);
a3s(latencyHome, ["cron", "daemon", "--detach"]);
const wanted = runs + 2; // the first two may be late while the daemon starts
while ((readFileSync(ticks, { flag: "a+" }).toString().match(/\n/g) ?? []).length < wanted)
  await Bun.sleep(200);
a3s(latencyHome, ["cron", "daemon", "stop"]);
const latencies = readFileSync(ticks, "utf8")
  .trim()
  .split("\n")
  .slice(2, wanted)
  .map((line) => {
    const [due = "", ns = "0"] = line.split(" ");
    return Number(BigInt(ns) / 1000n) / 1000 - Date.parse(due);
  });

// ---- 10,000 jobs ---------------------------------------------------------------------------------
const manyHome = join(scratch, "many");
const empty = time(join(scratch, "empty"), ["cron", "ls", "--json"], 10);
const ctx = openCronContext(pathsFor(manyHome), process.env);
const addStart = performance.now();
ctx.db.transaction(() => {
  for (let i = 0; i < JOBS; i++) {
    // Yearly jobs spread over the year: a few a day, so the daemon has something to wait for.
    addJob(ctx, {
      schedule: `${i % 60} ${i % 24} ${1 + (i % 28)} ${1 + (i % 12)} *`,
      command: "true",
      name: `job-${i}`,
      workdir: scratch,
    });
  }
})();
const addMs = performance.now() - addStart;
ctx.db.close();
const listed = JSON.parse(a3s(manyHome, ["cron", "ls", "--json"])) as unknown[];
if (listed.length !== JOBS) throw new Error(`ls listed ${listed.length} jobs, not ${JOBS}`);
const lsJson = time(manyHome, ["cron", "ls", "--json"], 10);
const lsTable = time(manyHome, ["cron", "ls"], 10);

// ---- idle daemon ---------------------------------------------------------------------------------
const started = performance.now();
const pid = Number(a3s(manyHome, ["cron", "daemon", "--detach"]).trim());
const startMs = performance.now() - started;
await Bun.sleep(1_000);
const before = cpuTicks(pid);
await Bun.sleep(IDLE_SECONDS * 1000);
const idleTicks = cpuTicks(pid) - before;
const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
a3s(manyHome, ["cron", "daemon", "stop"]);

const rows: Row[] = [
  {
    label: `job start after its due second (${latencies.length} runs)`,
    a3s: stats(latencies),
    target: { kind: "ms", value: 50 },
  },
  {
    label: `cron ls --json, ${JOBS} jobs (ref: 0 jobs)`,
    a3s: stats(lsJson),
    ref: stats(empty),
    target: { kind: "ms", value: 300 },
  },
  { label: `cron ls (table), ${JOBS} jobs (ref: 0 jobs)`, a3s: stats(lsTable), ref: stats(empty) },
];
console.log(formatTable("cron (ms)", rows, { p90: true }));
const cpuMs = (idleTicks * 1000) / CLOCK_TICKS;
console.log(
  `\ndaemon with ${JOBS} jobs: started (lock held) in ${startMs.toFixed(0)} ms; idle CPU over ${IDLE_SECONDS} s: ` +
    `${cpuMs.toFixed(0)} ms (${((cpuMs / (IDLE_SECONDS * 1000)) * 100).toFixed(2)}%), RSS ${(rssKb / 1024).toFixed(0)} MB`,
);
console.log(`adding ${JOBS} jobs through the core in one transaction: ${addMs.toFixed(0)} ms`);
