/**
 * `a3s box run <busybox image> true` with the image cached, side by side with Debian's podman and with
 * bare crun on a prepared bundle, all measured in the same run and interleaved run by run:
 *   - a3s: `box run --rm`, `box run` (kept, then `box rm`), `box run -d` then `box rm -f`;
 *   - podman 4.3 (a private store in a temp dir): `podman run --rm` with crun (inside a mount namespace
 *     without /sys/fs/cgroup/unified, as a3s runs crun), with runc, and with crun and `--network none`;
 *   - bare crun: `crun run` of a bundle with a3s's own config.json (the overhead reference) and of a
 *     `crun spec` bundle, through the same wrapper a3s uses;
 *   - where a3s's time goes: extra runs at debug log level, split by the supervisor's timings.
 *   bun bench/box-run.ts [--runs 20] [--binary path/to/a3s]
 * Exits 0 whether or not the targets are met; a missed target is printed as MISSED.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { boxDir } from "../src/box/lifecycle.ts";
import { detectHybridCgroups, runtimeCommand } from "../src/box/runtime/oci-cli.ts";
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
const WARMUP = 3;
const PHASE_RUNS = 10;
/** Debian's podman defaults exceed this host's hard RLIMIT_NOFILE (20000); a3s asks for 1024 too. */
const PODMAN_ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];
/** As a3s runs crun on a hybrid cgroup host (see runtimeCommand): no v2 hierarchy in its mount namespace. */
const WITHOUT_UNIFIED = [
  "unshare",
  "--mount",
  "--propagation",
  "private",
  "sh",
  "-c",
  'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"',
  "sh",
];

function progress(message: string): void {
  process.stderr.write(`· ${message}\n`);
}

function run(cmd: string[], env: Record<string, string> = {}, cwd = ROOT): number {
  const start = performance.now();
  const result = Bun.spawnSync(cmd, {
    cwd,
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  const elapsed = performance.now() - start;
  if (result.exitCode !== 0) {
    const stderr = result.stderr.toString().trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cmd.join(" ")} exited ${result.exitCode}: ${stderr}`);
  }
  return elapsed;
}

/** Timings of one case, or the reason it stopped being measured (its first failure). */
interface Series {
  name: string;
  samples: number[];
  error?: string;
}

const series = (name: string): Series => ({ name, samples: [] });

/** Runs `work` unless the series already failed; a failure is kept, not thrown. */
function attempt(target: Series, work: () => void): void {
  if (target.error !== undefined) return;
  try {
    work();
  } catch (err) {
    target.error = (err as Error).message;
  }
}

const figures = (target: Series): Stats | undefined =>
  target.error === undefined && target.samples.length > 0 ? stats(target.samples) : undefined;

/** For clean-up: runs `cmd` and ignores how it went (podman may not even be installed). */
function quietly(cmd: string[]): void {
  try {
    Bun.spawnSync(cmd, { stdout: "ignore", stderr: "ignore" });
  } catch {}
}

/**
 * A bundle for bare crun with the config.json a3s wrote for a box (same namespaces, mounts, seccomp,
 * cgroup placement), pointed at a plain directory holding the unpacked busybox layer, and with the
 * /etc files a3s bind-mounts copied next to it.
 */
function bundleFromBox(from: string, to: string, rootfs: string): void {
  mkdirSync(to, { recursive: true });
  for (const file of ["hostname", "hosts", "resolv.conf"]) copyFileSync(join(from, file), join(to, file));
  const config = JSON.parse(readFileSync(join(from, "config.json"), "utf8").replaceAll(from, to)) as {
    root: { path: string };
    linux: { cgroupsPath?: string };
  };
  config.root.path = rootfs;
  config.linux.cgroupsPath = "/a3s/bench-crun";
  writeFileSync(join(to, "config.json"), JSON.stringify(config, null, 2));
}

/** A bundle from `crun spec` (its defaults: no user namespace, no seccomp), running `true`. */
function bundleFromCrunSpec(dir: string, rootfs: string): void {
  mkdirSync(dir, { recursive: true });
  run(["crun", "spec"], {}, dir);
  const path = join(dir, "config.json");
  const config = JSON.parse(readFileSync(path, "utf8")) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string };
  };
  config.process.terminal = false;
  config.process.args = ["true"];
  config.root.path = rootfs;
  writeFileSync(path, JSON.stringify(config, null, 2));
}

/** The supervisor's debug lines for one box: uptimes (ms since its process started) and a wall clock. */
interface SupervisorTimings {
  ready: number;
  started: number;
  exited: number;
  /** Wall clock (ms since the epoch) of the supervisor's process start. */
  processStart: number;
}

const SUPERVISOR_LINE = /^(\S+) DEBUG pid=\d+ \[box\.supervisor\] box \w+: (.*) at (\d+) ms$/;

/** Reads the supervisor lines logged between `from` and `to` (wall clock): one foreground run. */
function supervisorTimings(logs: string, from: number, to: number): SupervisorTimings | undefined {
  const found: Partial<SupervisorTimings> = {};
  let readyWall: number | undefined;
  for (const match of logMatchesBetween(logs, SUPERVISOR_LINE, from, to)) {
    const what = match[2] ?? "";
    const at = Number(match[3]);
    if (what.endsWith("rootfs and bundle ready")) {
      found.ready = at;
      readyWall = Date.parse(match[1] ?? "");
    } else if (what === "runtime started") found.started = at;
    else if (what.startsWith("exited")) found.exited = at;
  }
  const { ready, started, exited } = found;
  if (ready === undefined || started === undefined || exited === undefined || readyWall === undefined)
    return undefined;
  return { ready, started, exited, processStart: readyWall - ready };
}

// ── Setup ────────────────────────────────────────────────────────────────────────────────────────

const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-run-"));
let binary = flag("--binary");
if (!binary) {
  progress("building dist/a3s");
  run([process.execPath, "scripts/build.ts"]);
  // Someone may rebuild dist/a3s while this runs: measure a copy of this build.
  binary = join(scratch, "a3s");
  copyFileSync(join(ROOT, "dist", "a3s"), binary);
}
const a3s = binary;
const home = join(scratch, "home");
const paths = pathsFor(home);
const a3sEnv = { A3S_HOME: home };
const podmanStore = join(scratch, "podman");
const podman = [
  "podman",
  "--root",
  join(podmanStore, "root"),
  "--runroot",
  join(podmanStore, "run"),
  "--tmpdir",
  join(podmanStore, "tmp"),
];
const crunState = join(scratch, "crun-state");
const hybridCgroups = detectHybridCgroups();
const registry = await startRegistry();
const rows: Row[] = [];
const phaseRows: Row[] = [];
const notes: string[] = [];
const loadBefore = loadavg()[0] ?? 0;

try {
  const layer = busyboxLayer();
  const image = `${registry.host}/bench/busybox:1`;
  progress(`pushing ${image}, pulling it into a3s and podman`);
  await pushImage(registry, "bench/busybox", "1", { layers: [layer] });
  run([a3s, "box", "pull", image], a3sEnv);

  let podmanError: string | undefined;
  try {
    run([...podman, "pull", "--quiet", "--tls-verify=false", image]);
  } catch (err) {
    podmanError = (err as Error).message;
    notes.push(`podman not measured: ${podmanError}`);
  }

  // One box run without --rm leaves the config.json a3s writes; bare crun runs that config.
  const rootfs = join(scratch, "rootfs");
  mkdirSync(rootfs);
  run(["tar", "-xzf", join(paths.blobs, layer.digest.slice(7)), "-C", rootfs]);
  const aBundle = join(scratch, "bundle-a3s");
  const specBundle = join(scratch, "bundle-spec");
  const bundleErrors: Record<string, string> = {};
  try {
    run([a3s, "box", "run", "--name", "bench-config", image, "true"], a3sEnv);
    const [id] = readdirSync(paths.boxes);
    if (id === undefined) throw new Error(`no box directory under ${paths.boxes}`);
    bundleFromBox(boxDir(paths, id), aBundle, rootfs);
    run([a3s, "box", "rm", "bench-config"], a3sEnv);
  } catch (err) {
    bundleErrors.a3s = (err as Error).message;
  }
  try {
    bundleFromCrunSpec(specBundle, rootfs);
  } catch (err) {
    bundleErrors.spec = (err as Error).message;
  }
  const crunRun = (bundle: string, id: string) =>
    runtimeCommand("crun", ["--root", crunState, "run", "--bundle", bundle, id], { hybridCgroups });

  // ── Interleaved runs ───────────────────────────────────────────────────────────────────────────
  progress(`${RUNS} runs of each case (+${WARMUP} warm-ups), interleaved`);
  const a = {
    rm: series("a3s box run --rm"),
    keep: series("a3s box run"),
    remove: series("a3s box rm"),
    detach: series("a3s box run -d"),
    forceRemove: series("a3s box rm -f"),
    floor: series("a3s --version"),
  };
  const ref = {
    podmanCrun: series("podman run (crun)"),
    podmanRunc: series("podman run (runc)"),
    podmanNone: series("podman run --network none"),
    crunA3s: series("bare crun (a3s's config)"),
    crunSpec: series("bare crun (crun spec)"),
    podmanFloor: series("podman --version"),
  };
  if (podmanError) for (const s of [ref.podmanCrun, ref.podmanRunc, ref.podmanNone]) s.error = podmanError;
  if (bundleErrors.a3s) ref.crunA3s.error = bundleErrors.a3s;
  if (bundleErrors.spec) ref.crunSpec.error = bundleErrors.spec;

  for (let i = -WARMUP; i < RUNS; i++) {
    const record = (target: Series, elapsed: number) => {
      if (i >= 0) target.samples.push(elapsed);
    };
    const runners: Array<() => void> = [
      () => attempt(a.rm, () => record(a.rm, run([a3s, "box", "run", "--rm", image, "true"], a3sEnv))),
      () =>
        attempt(a.keep, () => {
          const name = `bench-keep-${i + WARMUP}`;
          record(a.keep, run([a3s, "box", "run", "--name", name, image, "true"], a3sEnv));
          attempt(a.remove, () => record(a.remove, run([a3s, "box", "rm", name], a3sEnv)));
        }),
      () =>
        attempt(a.detach, () => {
          const name = `bench-detach-${i + WARMUP}`;
          record(a.detach, run([a3s, "box", "run", "-d", "--name", name, image, "true"], a3sEnv));
          attempt(a.forceRemove, () => record(a.forceRemove, run([a3s, "box", "rm", "-f", name], a3sEnv)));
        }),
      () =>
        attempt(ref.podmanCrun, () =>
          record(
            ref.podmanCrun,
            run([...WITHOUT_UNIFIED, ...podman, "run", "--rm", ...PODMAN_ULIMITS, image, "true"]),
          ),
        ),
      () =>
        attempt(ref.podmanRunc, () =>
          record(
            ref.podmanRunc,
            run([...podman, "--runtime", "runc", "run", "--rm", ...PODMAN_ULIMITS, image, "true"]),
          ),
        ),
      () =>
        attempt(ref.podmanNone, () =>
          record(
            ref.podmanNone,
            run([
              ...WITHOUT_UNIFIED,
              ...podman,
              "run",
              "--rm",
              "--network",
              "none",
              ...PODMAN_ULIMITS,
              image,
              "true",
            ]),
          ),
        ),
      () => attempt(ref.crunA3s, () => record(ref.crunA3s, run(crunRun(aBundle, `bench-a3s-${i + WARMUP}`)))),
      () =>
        attempt(ref.crunSpec, () =>
          record(ref.crunSpec, run(crunRun(specBundle, `bench-spec-${i + WARMUP}`))),
        ),
      () => {
        attempt(a.floor, () => record(a.floor, run([a3s, "--version"], a3sEnv)));
        attempt(ref.podmanFloor, () => record(ref.podmanFloor, run(["podman", "--version"])));
      },
    ];
    // Rotate who goes first, so no one always follows the same neighbour.
    for (let k = 0; k < runners.length; k++) runners[(k + i + WARMUP) % runners.length]?.();
  }

  const runRm = figures(a.rm);
  rows.push(
    { label: "box run --rm busybox true", a3s: runRm, target: { kind: "ms", value: 150 } },
    {
      label: "  vs podman run --rm (crun)",
      a3s: runRm,
      ref: figures(ref.podmanCrun),
      target: { kind: "ratio", value: 0.5 },
    },
    {
      label: "  vs podman run --rm (runc)",
      a3s: runRm,
      ref: figures(ref.podmanRunc),
      target: { kind: "ratio", value: 0.5 },
    },
    { label: "  vs podman run --rm --network none", a3s: runRm, ref: figures(ref.podmanNone) },
    {
      label: "  over bare crun run (a3s's config)",
      a3s: runRm,
      ref: figures(ref.crunA3s),
      target: { kind: "overhead", value: 80 },
    },
    { label: "  vs bare crun run (crun spec)", a3s: runRm, ref: figures(ref.crunSpec) },
    { label: "box run (kept, no --rm)", a3s: figures(a.keep) },
    { label: "  then box rm", a3s: figures(a.remove) },
    { label: "box run -d", a3s: figures(a.detach) },
    { label: "  then box rm -f", a3s: figures(a.forceRemove) },
    { label: "process floor (--version)", a3s: figures(a.floor), ref: figures(ref.podmanFloor) },
  );
  for (const s of [...Object.values(a), ...Object.values(ref)]) {
    if (s.error !== undefined && s.error !== podmanError) notes.push(`${s.name} not measured: ${s.error}`);
  }

  // ── Where a3s's time goes ──────────────────────────────────────────────────────────────────────
  progress(`${PHASE_RUNS} more runs of box run --rm at debug log level, split by the supervisor's timings`);
  const phases = {
    total: series("whole"),
    toSupervisor: series("to supervisor"),
    ready: series("ready"),
    toRuntime: series("to runtime"),
    runtime: series("runtime"),
    after: series("after"),
  };
  const debugEnv = { ...a3sEnv, A3S_LOG_LEVEL: "debug" };
  for (let i = -1; i < PHASE_RUNS; i++) {
    const from = Date.now();
    const start = performance.now();
    try {
      run([a3s, "box", "run", "--rm", image, "true"], debugEnv);
    } catch (err) {
      notes.push(`phase runs stopped: ${(err as Error).message}`);
      break;
    }
    const total = performance.now() - start;
    const to = Date.now();
    const timings = supervisorTimings(paths.logs, from, to);
    if (!timings) {
      notes.push(`phase runs stopped: no [box.supervisor] debug lines in ${paths.logs}`);
      break;
    }
    if (i < 0) continue;
    const exitedWall = timings.processStart + timings.exited;
    phases.total.samples.push(total);
    phases.toSupervisor.samples.push(timings.processStart - from);
    phases.ready.samples.push(timings.ready);
    phases.toRuntime.samples.push(timings.started - timings.ready);
    phases.runtime.samples.push(timings.exited - timings.started);
    phases.after.samples.push(to - exitedWall);
  }
  phaseRows.push(
    { label: "box run --rm, whole (debug log level)", a3s: figures(phases.total) },
    { label: "  client start → supervisor start", a3s: figures(phases.toSupervisor) },
    { label: "  supervisor start → rootfs+bundle ready", a3s: figures(phases.ready) },
    { label: "  ready → runtime spawned", a3s: figures(phases.toRuntime) },
    { label: "  crun run (spawn → exit seen)", a3s: figures(phases.runtime), ref: figures(ref.crunA3s) },
    { label: "  exit seen → client exits", a3s: figures(phases.after) },
  );
} finally {
  await registry.stop();
  quietly([...podman, "rm", "--all", "--force"]);
  quietly([...podman, "rmi", "--all", "--force"]);
  // The overlay driver leaves its home bind-mounted on itself.
  quietly(["umount", join(podmanStore, "root", "overlay")]);
  try {
    rmSync(scratch, { recursive: true, force: true });
  } catch (err) {
    process.stderr.write(`cannot remove ${scratch}: ${(err as Error).message}\n`);
  }
}

// ── Report ───────────────────────────────────────────────────────────────────────────────────────

console.log(
  formatTable(`box run, image cached, ${RUNS} runs of each case, interleaved (ms)`, rows, { p90: true }),
);
console.log("");
console.log(
  formatTable(`where box run --rm spends its time, ${PHASE_RUNS} runs (ms)`, phaseRows, { p90: true }),
);
console.log(
  [
    "",
    `reference: podman ${podmanVersion()}, a private store in a temp dir, the image pulled from the same registry.`,
    `  Every podman run has ${PODMAN_ULIMITS.join(" ")} (its defaults exceed`,
    "  the host's hard limit) and its default network (CNI bridge) unless --network none; a3s gives a box",
    "  a network namespace with loopback only, like --network none. (crun) runs podman inside",
    "  `unshare --mount` with /sys/fs/cgroup/unified unmounted, as a3s runs crun; (runc) is",
    "  `podman --runtime runc`. bare crun = `crun run --bundle` through that same wrapper, of a bundle with",
    "  the config.json a3s wrote for a box (user namespace, seccomp, mounts) or with `crun spec`'s defaults,",
    "  on a plain directory holding the unpacked layer. Overhead = a3s median − bare crun (a3s's config)",
    "  median. floor → podman --version.",
    "phases: from the supervisor's debug lines (uptime since its process started; wall-clock timestamps at",
    "  1 ms resolution). client start → supervisor start covers the client's own start, image lookup, box",
    "  record and supervisor spawn; supervisor start → ready covers its own start, waiting for the client",
    "  to attach, the overlay mount and config.json; exit seen → client exits covers crun delete, --rm",
    "  removal, the exit frame and the client's exit.",
    `load average (1 min): ${loadBefore.toFixed(2)} at start, ${(loadavg()[0] ?? 0).toFixed(2)} at end, on ${availableParallelism()} CPUs;`,
    "  whatever else runs on the machine shows up in every column.",
    ...notes,
  ].join("\n"),
);

function podmanVersion(): string {
  const result = Bun.spawnSync(["podman", "--version"], { stderr: "ignore" });
  return result.exitCode === 0
    ? result.stdout
        .toString()
        .trim()
        .replace(/^podman version /, "")
    : "(absent)";
}
