/**
 * The scheduler as a process: one per A3S_HOME, held by a lock row taken in a write transaction
 * (pid plus process start time, so a dead or reused pid never holds it), started in the foreground
 * or detached, told about job changes with SIGUSR1, stopped with SIGTERM.
 */
import type { Database } from "bun:sqlite";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { isSameProcessAlive, processStartTime } from "../box/process.ts";
import { A3sError } from "../core/errors.ts";
import { readTextIfPresent } from "../core/fs.ts";
import { systemClock } from "./clock.ts";
import { type CronContext, daemonLogPath, selfCommand } from "./context.ts";
import type { Owner } from "./runs.ts";
import { Scheduler } from "./scheduler.ts";
import type { CatchUp } from "./store.ts";

export interface DaemonStatus {
  running: boolean;
  pid: number | null;
  startedAt: string | null;
  log: string | null;
}

interface LockRow {
  pid: number;
  pid_start: number | null;
  started_at: string;
  log: string | null;
}

export function currentOwner(): Owner {
  return { pid: process.pid, start: processStartTime(process.pid) };
}

export function daemonStatus(db: Database): DaemonStatus {
  const row = db.query("SELECT * FROM cron_daemon WHERE id = 1").get() as LockRow | null;
  if (!row || !isSameProcessAlive(row.pid, row.pid_start ?? undefined)) {
    return { running: false, pid: null, startedAt: null, log: null };
  }
  return { running: true, pid: row.pid, startedAt: row.started_at, log: row.log };
}

/** Takes the lock or fails naming the daemon that holds it; a stale row (dead pid) is taken over. */
export function acquireLock(db: Database, owner: Owner, log: string | null): void {
  db.transaction(() => {
    const row = db.query("SELECT * FROM cron_daemon WHERE id = 1").get() as LockRow | null;
    if (row && row.pid !== owner.pid && isSameProcessAlive(row.pid, row.pid_start ?? undefined)) {
      throw new A3sError("conflict", `a cron daemon is already running (pid ${row.pid})`, {
        hint: "see 'a3s cron daemon status', or stop it with 'a3s cron daemon stop'",
      });
    }
    db.query(
      "INSERT OR REPLACE INTO cron_daemon (id, pid, pid_start, started_at, log) VALUES (1, ?, ?, ?, ?)",
    ).run(owner.pid, owner.start ?? null, new Date().toISOString(), log);
  }).immediate();
}

export function releaseLock(db: Database, owner: Owner): void {
  db.query("DELETE FROM cron_daemon WHERE id = 1 AND pid = ?").run(owner.pid);
}

/** Tells a running daemon that jobs changed, so it reschedules now instead of at its next wake-up. */
export function notifyDaemon(db: Database): void {
  const status = daemonStatus(db);
  if (status.pid === null || status.pid === process.pid) return;
  try {
    process.kill(status.pid, "SIGUSR1");
  } catch {
    // Gone since, or another user's: it re-reads the jobs within MAX_SLEEP_MS anyway.
  }
}

export interface DaemonOptions {
  catchUp: CatchUp;
  /** Where --detach sent our stderr (recorded for `status`). */
  log: string | null;
  report: (line: string) => void;
  signal: AbortSignal;
}

/** Runs the scheduler in this process until `signal` aborts. */
export async function runDaemon(ctx: CronContext, options: DaemonOptions): Promise<void> {
  const owner = currentOwner();
  acquireLock(ctx.db, owner, options.log);
  const scheduler = new Scheduler({
    jobs: ctx.jobs,
    runs: ctx.runs,
    clock: systemClock,
    paths: ctx.paths,
    env: ctx.env,
    self: selfCommand(),
    owner,
    catchUp: options.catchUp,
    report: options.report,
  });
  const onChange = () => scheduler.wake();
  process.on("SIGUSR1", onChange);
  try {
    options.report(`cron daemon started (pid ${owner.pid}, catch-up ${options.catchUp})`);
    await scheduler.loop(options.signal);
    options.report("cron daemon stopped");
  } finally {
    process.off("SIGUSR1", onChange);
    releaseLock(ctx.db, owner);
  }
}

const START_TIMEOUT_MS = 10_000;

/** Starts `a3s cron daemon` as a detached process and waits until it holds the lock. */
export async function startDetached(ctx: CronContext, catchUp: CatchUp | undefined): Promise<DaemonStatus> {
  const running = daemonStatus(ctx.db);
  if (running.running) {
    throw new A3sError("conflict", `a cron daemon is already running (pid ${running.pid})`, {
      hint: "see 'a3s cron daemon status'",
    });
  }
  const log = daemonLogPath(ctx.paths);
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, "a", 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    const args = [...selfCommand(), "--home", ctx.paths.home, "cron", "daemon", "--log-file", log];
    if (catchUp !== undefined) args.push("--catch-up", catchUp);
    const [command = "", ...rest] = args;
    child = spawn(command, rest, { detached: true, stdio: ["ignore", fd, fd], env: ctx.env });
    child.unref();
  } finally {
    closeSync(fd);
  }
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    const status = daemonStatus(ctx.db);
    if (status.running && status.pid === child.pid) return status;
    if (exited) break;
    await Bun.sleep(delay);
  }
  const tail = (readTextIfPresent(log) ?? "").trim().split("\n").slice(-5).join("\n");
  throw new A3sError("runtime", "the cron daemon did not start", { hint: tail || `see ${log}` });
}

/** SIGTERM, then waits for the daemon to release its lock (it stops its running jobs first). */
export async function stopDaemon(ctx: CronContext, timeoutMs = 30_000): Promise<DaemonStatus> {
  const status = daemonStatus(ctx.db);
  if (!status.running || status.pid === null) {
    throw new A3sError("not_found", "no cron daemon is running");
  }
  process.kill(status.pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    if (!daemonStatus(ctx.db).running) return status;
    await Bun.sleep(delay);
  }
  throw new A3sError(
    "runtime",
    `the cron daemon (pid ${status.pid}) did not stop within ${timeoutMs / 1000} s`,
    {
      hint: `kill it with 'kill -9 ${status.pid}'; the next daemon cleans up after it`,
    },
  );
}
