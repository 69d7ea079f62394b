/**
 * microVM boxes of the compiled binary, `a3s box run --rm <busybox image> true` with the image cached:
 *   - booted cold (a home without a warm pool), restored from a warm snapshot (a home where
 *     `box pool warm` saved the image's guest), and in the sandbox (crun) as the reference, all in
 *     the same run and interleaved run by run;
 *   - a warm run of a kept box (no --rm: the box gets its own ext4 disk, then `box rm`);
 *   - QEMU start → the guest's READY, cold and warm, from the supervisor's debug lines;
 *   - `box pool warm` itself (boot, park, save).
 *   bun bench/box-microvm.ts [--runs 20] [--binary path/to/a3s]
 * Needs QEMU and the guest kernel (A3S_KERNEL or ~/.a3s/kernel, as `a3s doctor` finds it). Exits 0
 * whether or not the targets are met; a missed target is printed as MISSED.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { findKernel } from "../src/box/microvm/kernel.ts";
import { pathsFor } from "../src/core/paths.ts";
import { busyboxLayer, pushImage } from "../tests/fixtures/images.ts";
import { startRegistry } from "../tests/fixtures/registry.ts";
import { logMatchesBetween } from "./lib/logs.ts";
import { formatTable, type Row, type Stats, stats } from "./lib/report.ts";

const ROOT = join(import.meta.dir, "..");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const RUNS = Number(flag("--runs")) || 20;
const WARMUP = 2;
const DEBUG_RUNS = 10;
const WARM_RUNS = 5;

function progress(message: string): void {
  process.stderr.write(`· ${message}\n`);
}

interface Timed {
  ms: number;
  stdout: string;
}

function run(cmd: string[], env: Record<string, string> = {}): Timed {
  const start = performance.now();
  const result = Bun.spawnSync(cmd, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const ms = performance.now() - start;
  if (result.exitCode !== 0) {
    const stderr = result.stderr.toString().trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cmd.join(" ")} exited ${result.exitCode}: ${stderr}`);
  }
  // A warning on stderr (a state that could not be restored) would make the warm figures a lie.
  const stderr = result.stderr.toString();
  if (stderr.includes("warning:")) throw new Error(`${cmd.join(" ")}: ${stderr.trim()}`);
  return { ms, stdout: result.stdout.toString() };
}

interface Series {
  name: string;
  samples: number[];
  error?: string;
}

const series = (name: string): Series => ({ name, samples: [] });

function attempt(target: Series, work: () => number | undefined): void {
  if (target.error !== undefined) return;
  try {
    const ms = work();
    if (ms !== undefined) target.samples.push(ms);
  } catch (err) {
    target.error = (err as Error).message;
  }
}

const figures = (target: Series): Stats | undefined =>
  target.error === undefined && target.samples.length > 0 ? stats(target.samples) : undefined;

/** `… READY after N ms` lines of the supervisors that ran between `from` and `to` (wall clock). */
const READY_LINE =
  /^(\S+) DEBUG pid=\d+ \[box\.microvm\] (booted|restored from the warm snapshot \w+): READY after (\d+) ms$/;

function readyTimes(logs: string, from: number, to: number): Array<{ warm: boolean; ms: number }> {
  return logMatchesBetween(logs, READY_LINE, from, to).map((match) => ({
    warm: match[2] !== "booted",
    ms: Number(match[3]),
  }));
}

// ── Setup ────────────────────────────────────────────────────────────────────────────────────────

const kernel =
  process.env.A3S_KERNEL || findKernel(pathsFor(join(userInfo().homedir, ".a3s")), join(ROOT, "dist"));
if (!kernel || !Bun.which("qemu-system-x86_64")) {
  console.error("needs qemu-system-x86_64 and the a3s guest kernel (bun scripts/build-kernel.ts)");
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-vm-"));
let binary = flag("--binary");
if (!binary) {
  progress("building dist/a3s");
  run([process.execPath, "scripts/build.ts"]);
  // Someone may rebuild dist/a3s while this runs: measure a copy of this build (and of the guest
  // init, which the binary finds next to itself).
  binary = join(scratch, "a3s");
  copyFileSync(join(ROOT, "dist", "a3s"), binary);
  mkdirSync(join(scratch, "native"));
  copyFileSync(join(ROOT, "dist", "native", "init"), join(scratch, "native", "init"));
}
const a3s = binary;
const coldHome = join(scratch, "cold");
const warmHome = join(scratch, "warm");
const coldEnv = { A3S_HOME: coldHome, A3S_KERNEL: kernel };
const warmEnv = { A3S_HOME: warmHome, A3S_KERNEL: kernel };
const registry = await startRegistry();
const rows: Row[] = [];
const readyRows: Row[] = [];
const notes: string[] = [];
const loadBefore = loadavg()[0] ?? 0;
let stateBytes = 0;
let accelerator = "?";

try {
  const image = `${registry.host}/bench/busybox:1`;
  progress(`pushing ${image}, pulling it into two homes`);
  await pushImage(registry, "bench/busybox", "1", { layers: [busyboxLayer()] });
  run([a3s, "box", "pull", "-q", image], coldEnv);
  run([a3s, "box", "pull", "-q", image], warmEnv);
  // The erofs root disk is built once per image, at the first microVM run: not in the figures.
  run([a3s, "box", "run", "--rm", "--isolation", "microvm", image, "true"], coldEnv);

  const poolWarm = series("box pool warm");
  progress(`box pool warm, ${WARM_RUNS} times`);
  for (let i = 0; i < WARM_RUNS; i++) {
    attempt(poolWarm, () => {
      const result = run([a3s, "--json", "box", "pool", "warm", image], warmEnv);
      const warmed = JSON.parse(result.stdout) as { Size: number; Accelerator: string };
      stateBytes = warmed.Size;
      accelerator = warmed.Accelerator;
      return result.ms;
    });
  }

  progress(`${RUNS} runs of each case (+${WARMUP} warm-ups), interleaved`);
  const cold = series("microvm, cold");
  const warm = series("microvm, warm");
  const kept = series("microvm, warm, kept box");
  const keptRemove = series("box rm (kept microVM box)");
  const sandbox = series("sandbox");
  const floor = series("--version");
  const vm = ["box", "run", "--rm", "--isolation", "microvm", image, "true"];
  for (let i = -WARMUP; i < RUNS; i++) {
    const keep = (ms: number) => (i >= 0 ? ms : undefined);
    const runners: Array<() => void> = [
      () => attempt(cold, () => keep(run([a3s, ...vm], coldEnv).ms)),
      () => attempt(warm, () => keep(run([a3s, ...vm], warmEnv).ms)),
      () =>
        attempt(kept, () => {
          const name = `kept-${i + WARMUP}`;
          const ms = run(
            [a3s, "box", "run", "--name", name, "--isolation", "microvm", image, "true"],
            warmEnv,
          ).ms;
          attempt(keptRemove, () => keep(run([a3s, "box", "rm", name], warmEnv).ms));
          return keep(ms);
        }),
      () =>
        attempt(sandbox, () =>
          keep(run([a3s, "box", "run", "--rm", "--isolation", "sandbox", image, "true"], coldEnv).ms),
        ),
      () => attempt(floor, () => keep(run([a3s, "--version"], coldEnv).ms)),
    ];
    // Rotate who goes first, so no one always follows the same neighbour.
    for (let k = 0; k < runners.length; k++) runners[(k + i + WARMUP) % runners.length]?.();
  }

  progress(`${DEBUG_RUNS} more runs of each at debug log level, for QEMU start → READY`);
  const coldReady = series("cold READY");
  const warmReady = series("warm READY");
  for (const [target, env] of [
    [coldReady, coldEnv],
    [warmReady, warmEnv],
  ] as const) {
    for (let i = 0; i < DEBUG_RUNS; i++) {
      const from = Date.now();
      attempt(target, () => {
        run([a3s, ...vm], { ...env, A3S_LOG_LEVEL: "debug" });
        const found = readyTimes(pathsFor(env.A3S_HOME).logs, from, Date.now());
        const wanted = found.find((entry) => entry.warm === (target === warmReady));
        if (!wanted) throw new Error(`no READY line of a ${target === warmReady ? "warm" : "cold"} start`);
        return wanted.ms;
      });
    }
  }

  rows.push(
    {
      label: "run --rm --isolation microvm, cold",
      a3s: figures(cold),
      target: { kind: "ms", value: 1200 },
    },
    {
      label: "run --rm --isolation microvm, warm",
      a3s: figures(warm),
      target: { kind: "ms", value: 450 },
    },
    { label: "run --rm --isolation sandbox", a3s: figures(sandbox) },
    { label: "  microvm cold vs sandbox", a3s: figures(cold), ref: figures(sandbox) },
    { label: "  microvm warm vs sandbox", a3s: figures(warm), ref: figures(sandbox) },
    { label: "run --isolation microvm (own disk), warm", a3s: figures(kept) },
    { label: "  then box rm", a3s: figures(keptRemove) },
    { label: "box pool warm (boot, park, save)", a3s: figures(poolWarm) },
    { label: "process floor (--version)", a3s: figures(floor) },
  );
  readyRows.push(
    { label: "QEMU start → READY, cold boot", a3s: figures(coldReady) },
    { label: "QEMU start → READY, warm restore", a3s: figures(warmReady) },
  );
  for (const s of [poolWarm, cold, warm, kept, keptRemove, sandbox, floor, coldReady, warmReady]) {
    if (s.error !== undefined) notes.push(`${s.name} not measured: ${s.error}`);
  }
} finally {
  await registry.stop();
  try {
    rmSync(scratch, { recursive: true, force: true });
  } catch (err) {
    process.stderr.write(`cannot remove ${scratch}: ${(err as Error).message}\n`);
  }
}

// ── Report ───────────────────────────────────────────────────────────────────────────────────────

console.log(
  formatTable(`microVM box run, busybox image cached, ${RUNS} runs of each case, interleaved (ms)`, rows, {
    p90: true,
  }),
);
console.log("");
console.log(
  formatTable(`QEMU start → the guest's READY, ${DEBUG_RUNS} runs each (ms)`, readyRows, { p90: true }),
);
console.log(
  [
    "",
    `cold: a home without a warm pool: QEMU boots the guest kernel (${accelerator} here). warm: a home`,
    `  where \`box pool warm\` saved the image's guest (${(stateBytes / 1e6).toFixed(1)} MB of state), restored`,
    "  with -incoming. --rm boxes keep their changes in a tmpfs; the kept box has its own sparse ext4",
    "  disk (made at its first start, mounted in the guest). sandbox: the same image under crun. Every",
    "  case includes the client, the supervisor, the VM's exit and --rm.",
    "READY: from the supervisor's debug lines. After READY a run still has START to EXIT in the guest",
    "  (assembling the root: overlay, /run, volumes), QEMU's exit and the client's.",
    `load average (1 min): ${loadBefore.toFixed(2)} at start, ${(loadavg()[0] ?? 0).toFixed(2)} at end, on ${availableParallelism()} CPUs.`,
    ...notes,
  ].join("\n"),
);
