/**
 * The guest kernel a microVM boots: an uncompressed x86_64 vmlinux that QEMU's microvm machine starts
 * through its PVH entry point. Releases ship one next to the binary; otherwise it is built once from a
 * Linux source tarball by native/kernel/build.sh (tinyconfig + native/kernel/a3s.config, ~7 minutes
 * on 2 cores) into ~/.a3s/kernel/<key>/, where the key names the fragment and the source.
 *
 * A cache directory holds `vmlinux`, `config` (the final .config), `a3s.config` and `build.sh` (what it
 * was built with) and `source.json`. It appears by rename, complete or not at all; a lock file next to
 * it lets one process build while the others wait.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import fragmentText from "../../../native/kernel/a3s.config" with { type: "text" };
import buildScriptText from "../../../native/kernel/build.sh" with { type: "text" };
import { A3sError } from "../../core/errors.ts";
import { isFile, readTextIfPresent } from "../../core/fs.ts";
import type { Paths } from "../../core/paths.ts";

/** native/kernel/a3s.config, embedded. */
export const KERNEL_FRAGMENT: string = fragmentText;
/** native/kernel/build.sh, embedded. */
export const KERNEL_BUILD_SCRIPT: string = buildScriptText;

/** Debian's `linux-source-6.1` package installs this. */
export const DEFAULT_KERNEL_SOURCE = "/usr/src/linux-source-6.1.tar.xz";

const KERNEL_FILE = "vmlinux";
const FRAGMENT_FILE = "a3s.config";

// ---------------------------------------------------------------------------------------------
// Cache keys

/**
 * 16 hex digits of sha256 over the fragment's settings and the source's identity: a directory name.
 * Comments and blank lines do not count, so rewording the fragment's comments does not mean a rebuild.
 */
export function kernelCacheKey(fragment: string, sourceIdentity: string): string {
  return createHash("sha256")
    .update("a3s-kernel\0")
    .update(fragmentSettings(fragment).join("\n"))
    .update("\0")
    .update(sourceIdentity)
    .digest("hex")
    .slice(0, 16);
}

/** The fragment's `CONFIG_X=…` and `# CONFIG_X is not set` lines, in order, trimmed. */
export function fragmentSettings(fragment: string): string[] {
  return fragment
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^CONFIG_\w+=/.test(line) || /^# CONFIG_\w+ is not set$/.test(line));
}

/**
 * What a kernel source is, cheaply: a tarball by size and mtime (seconds; dpkg keeps the package's
 * mtime, so the same linux-source package gives the same identity on every machine), a source tree
 * by its Makefile version and its real path. Undefined when the source does not exist.
 */
export function kernelSourceIdentity(source: string): string | undefined {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(source);
  } catch {
    return undefined;
  }
  if (stats.isDirectory()) {
    const makefile = readTextIfPresent(join(source, "Makefile")) ?? "";
    const field = (name: string) =>
      new RegExp(`^${name}[ \\t]*=[ \\t]*(\\S*)`, "m").exec(makefile)?.[1] ?? "";
    const version = `${field("VERSION")}.${field("PATCHLEVEL")}.${field("SUBLEVEL")}${field("EXTRAVERSION")}`;
    return `tree:${version}:${realpathSync(source)}`;
  }
  return `tarball:${stats.size}:${Math.floor(stats.mtimeMs / 1000)}`;
}

/** The cache key of the embedded fragment built from `source`; undefined when the source is missing. */
export function kernelKeyFor(source: string, fragment: string = KERNEL_FRAGMENT): string | undefined {
  const identity = kernelSourceIdentity(source);
  return identity === undefined ? undefined : kernelCacheKey(fragment, identity);
}

// ---------------------------------------------------------------------------------------------
// Finding a kernel

export interface FindKernelOptions {
  source?: string;
  fragment?: string;
}

/**
 * Where a vmlinux may be, best first: shipped with the binary (next to it, in <dir>/share/a3s, or in
 * the FHS/Homebrew <dir>/../share/a3s), then this machine's build of the current fragment and source.
 */
export function kernelCandidates(paths: Paths, execDir: string, options: FindKernelOptions = {}): string[] {
  const key = kernelKeyFor(options.source ?? DEFAULT_KERNEL_SOURCE, options.fragment);
  return [
    join(execDir, KERNEL_FILE),
    join(execDir, "share", "a3s", KERNEL_FILE),
    join(dirname(execDir), "share", "a3s", KERNEL_FILE),
    ...(key === undefined ? [] : [join(paths.kernel, key, KERNEL_FILE)]),
  ];
}

/**
 * The vmlinux to boot, or undefined when there is none. After the candidates, any cached build of the
 * same fragment will do (the newest): the source tarball may have been removed or updated since.
 */
export function findKernel(
  paths: Paths,
  execDir: string = dirname(process.execPath),
  options: FindKernelOptions = {},
): string | undefined {
  const found = kernelCandidates(paths, execDir, options).find(isFile);
  return found ?? newestBuildOf(paths, options.fragment ?? KERNEL_FRAGMENT);
}

function sameSettings(a: string, b: string): boolean {
  return fragmentSettings(a).join("\n") === fragmentSettings(b).join("\n");
}

function newestBuildOf(paths: Paths, fragment: string): string | undefined {
  let best: { path: string; mtime: number } | undefined;
  for (const name of listDir(paths.kernel)) {
    if (name.startsWith(".")) continue;
    const path = join(paths.kernel, name, KERNEL_FILE);
    const built = readTextIfPresent(join(paths.kernel, name, FRAGMENT_FILE));
    if (!isFile(path) || built === undefined || !sameSettings(built, fragment)) continue;
    const mtime = statSync(path).mtimeMs;
    if (best === undefined || mtime > best.mtime) best = { path, mtime };
  }
  return best?.path;
}

// ---------------------------------------------------------------------------------------------
// Building one

/** Runs `bash script args…`, reporting each output line, and resolves to its exit status. */
export type ScriptRunner = (
  script: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; onLine: (line: string) => void },
) => Promise<number>;

export interface BuildKernelOptions {
  /** A Linux source tarball or tree; DEFAULT_KERNEL_SOURCE by default. */
  source?: string;
  /** Every line the build prints, and a line when waiting for another process's build. */
  onLine?: (line: string) => void;
  /** Tests replace the real (slow) build. */
  runScript?: ScriptRunner;
  /** How often a process waiting for another's build looks again. */
  pollMs?: number;
}

const TAIL_LINES = 25;
/** A lock whose holder has not written its pid after this long was left by a crash. */
const UNWRITTEN_LOCK_MS = 10_000;

/**
 * Builds the guest kernel for `source` into paths.kernel/<key>/ and returns its vmlinux. Returns at
 * once when that build exists; waits when another process is building it.
 */
export async function buildKernel(paths: Paths, options: BuildKernelOptions = {}): Promise<string> {
  const source = options.source ?? DEFAULT_KERNEL_SOURCE;
  const onLine = options.onLine ?? (() => {});
  const identity = kernelSourceIdentity(source);
  if (identity === undefined) {
    throw new A3sError("not_found", `no Linux kernel source at ${source}`, {
      hint: "install Debian's linux-source-6.1 package (apt-get install linux-source-6.1) or name a source tarball",
    });
  }
  const key = kernelCacheKey(KERNEL_FRAGMENT, identity);
  const target = join(paths.kernel, key);
  const kernel = join(target, KERNEL_FILE);
  const lock = join(paths.kernel, `.${key}.lock`);
  mkdirSync(paths.kernel, { recursive: true });

  let announced = false;
  for (;;) {
    if (isFile(kernel)) return kernel;
    if (tryLock(lock)) break;
    if (!announced) {
      onLine(`another a3s process (${lockHolder(lock) ?? "unknown pid"}) is building the kernel; waiting`);
      announced = true;
    }
    await Bun.sleep(options.pollMs ?? 1000);
  }

  try {
    if (isFile(kernel)) return kernel;
    return await buildLocked(paths, { source, identity, key, onLine, runScript: options.runScript });
  } finally {
    rmSync(lock, { force: true });
  }
}

async function buildLocked(
  paths: Paths,
  job: {
    source: string;
    identity: string;
    key: string;
    onLine: (line: string) => void;
    runScript: ScriptRunner | undefined;
  },
): Promise<string> {
  const target = join(paths.kernel, job.key);
  // Leftovers of builds that crashed while holding this lock.
  for (const name of listDir(paths.kernel)) {
    if (name.startsWith(`.build-${job.key}-`))
      rmSync(join(paths.kernel, name), { recursive: true, force: true });
  }
  const staging = mkdtempSync(join(paths.kernel, `.build-${job.key}-`));
  try {
    const script = join(staging, "build.sh");
    writeFileSync(script, KERNEL_BUILD_SCRIPT, { mode: 0o755 });
    writeFileSync(join(staging, FRAGMENT_FILE), KERNEL_FRAGMENT);
    mkdirSync(paths.tmp, { recursive: true });

    const tail: string[] = [];
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      job.onLine(line);
    };
    const run = job.runScript ?? runBash;
    const env = { ...process.env, TMPDIR: paths.tmp, LC_ALL: "C" };
    const status = await run(script, [job.source, staging, join(staging, FRAGMENT_FILE)], { env, onLine });
    if (status !== 0) {
      throw new A3sError("runtime", `building the guest kernel failed (build.sh exited with ${status})`, {
        hint: tail.length > 0 ? `its last lines:\n${tail.join("\n")}` : undefined,
      });
    }
    if (!isFile(join(staging, KERNEL_FILE))) {
      throw new A3sError("internal", `build.sh succeeded but left no ${KERNEL_FILE} in ${staging}`);
    }
    const record = { source: job.source, identity: job.identity, builtAt: new Date().toISOString() };
    writeFileSync(join(staging, "source.json"), `${JSON.stringify(record, null, 2)}\n`);
    chmodSync(staging, 0o755); // mkdtemp creates it 0700; the cache is an ordinary directory
    renameSync(staging, target);
    return join(target, KERNEL_FILE);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Creates the lock file with our pid; false when another live process holds it. */
function tryLock(lock: string): boolean {
  try {
    const fd = openSync(lock, "wx");
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  if (lockIsStale(lock)) {
    rmSync(lock, { force: true });
    return tryLock(lock);
  }
  return false;
}

function lockHolder(lock: string): number | undefined {
  const pid = Number.parseInt(readTextIfPresent(lock) ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function lockIsStale(lock: string): boolean {
  const pid = lockHolder(lock);
  if (pid === undefined) {
    // Just created and not yet written, or written by a process that died in between.
    try {
      return Date.now() - statSync(lock).mtimeMs > UNWRITTEN_LOCK_MS;
    } catch {
      return true;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

const runBash: ScriptRunner = (script, args, options) =>
  new Promise((resolve, reject) => {
    const child = spawn("bash", [script, ...args], { env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    const closed = [child.stdout, child.stderr].map(
      (stream) =>
        new Promise<void>((done) => {
          const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
          lines.on("line", options.onLine);
          lines.on("close", done);
        }),
    );
    child.on("error", reject);
    child.on("close", (code, signal) => {
      void Promise.all(closed).then(() => resolve(code ?? 128 + signalNumber(signal)));
    });
  });

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : constants.signals[signal];
}

// ---------------------------------------------------------------------------------------------
// Small file helpers

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
