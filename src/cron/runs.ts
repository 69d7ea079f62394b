/**
 * Run history: one row per run of a job, claimed before it starts so nothing runs twice, finished
 * with its exit status and the captured tail of its output. Field names are the `--json` ones.
 */
import type { Database } from "bun:sqlite";
import { A3sError } from "../core/errors.ts";
import type { Job } from "./store.ts";

/** queued and running are transient; success, failed, timeout and skipped are final. */
export type RunStatus = "queued" | "running" | "success" | "failed" | "timeout" | "skipped";
export const RUN_STATUSES: readonly RunStatus[] = [
  "queued",
  "running",
  "success",
  "failed",
  "timeout",
  "skipped",
];
/**
 * The last 64 KiB of each stream is kept; `stdoutDropped`/`stderrDropped` count what was cut.
 * Defined here rather than in runner.ts, which spawns processes: `a3s cron logs --help` states the
 * cap, and importing the runner for it would load node:child_process on every start.
 */
export const OUTPUT_CAP_BYTES = 64 * 1024;
/** schedule: on time; catch-up: a missed due time run after a downtime; manual: `a3s cron run`. */
export type Trigger = "schedule" | "catch-up" | "manual";

/** A type (not an interface) so rows fit Record<string, unknown> for --format templates. */
export type Run = {
  id: number;
  jobId: string;
  jobName: string;
  trigger: Trigger;
  scheduledFor: string | null;
  status: RunStatus;
  reason: string | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  signal: string | null;
  stdoutDropped: number;
  stderrDropped: number;
  pid: number | null;
};

export interface RunWithOutput extends Run {
  stdout: string;
  stderr: string;
}

interface RunRow {
  id: number;
  job_id: string;
  job_name: string;
  trigger: Trigger;
  scheduled_for: string | null;
  status: RunStatus;
  reason: string | null;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdout_dropped: number;
  stderr_dropped: number;
  pid: number | null;
  pid_start: number | null;
  owner_pid: number;
  owner_start: number | null;
}

function fromRow(row: RunRow): Run {
  return {
    id: row.id,
    jobId: row.job_id,
    jobName: row.job_name,
    trigger: row.trigger,
    scheduledFor: row.scheduled_for,
    status: row.status,
    reason: row.reason,
    attempts: row.attempts,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    exitCode: row.exit_code,
    signal: row.signal,
    stdoutDropped: row.stdout_dropped,
    stderrDropped: row.stderr_dropped,
    pid: row.pid,
  };
}

/** The process that owns a run (a daemon or `a3s cron run`): pid and start time, against pid reuse. */
export interface Owner {
  pid: number;
  start: number | undefined;
}

export interface ClaimInput {
  job: Job;
  trigger: Trigger;
  scheduledFor: string | null;
  owner: Owner;
  /** Recorded as skipped straight away (missed, or overlapping) instead of queued. */
  skipReason?: string;
  now: string;
}

export interface Finish {
  status: "success" | "failed" | "timeout";
  reason: string | null;
  attempts: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutDropped: number;
  stderrDropped: number;
}

const LIST_COLUMNS =
  "id, job_id, job_name, trigger, scheduled_for, status, reason, attempts, started_at, finished_at, duration_ms, exit_code, signal, '' AS stdout, '' AS stderr, stdout_dropped, stderr_dropped, pid, pid_start, owner_pid, owner_start";

export class RunStore {
  constructor(private readonly db: Database) {}

  /**
   * Records a run before it starts. A scheduled due time can be claimed once (unique index on job
   * and time): undefined means another scheduler, or this one before a restart, already has it.
   */
  claim(input: ClaimInput): Run | undefined {
    const { job, trigger, scheduledFor, owner, skipReason, now } = input;
    return this.db
      .transaction(() => {
        const result = this.db
          .query(
            `INSERT OR IGNORE INTO cron_runs (job_id, job_name, trigger, scheduled_for, status, reason, finished_at,
            owner_pid, owner_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            job.id,
            job.name,
            trigger,
            scheduledFor,
            skipReason === undefined ? "queued" : "skipped",
            skipReason ?? null,
            skipReason === undefined ? null : now,
            owner.pid,
            owner.start ?? null,
          );
        if (result.changes === 0) return undefined;
        if (scheduledFor !== null) {
          this.db
            .query(
              "UPDATE cron_jobs SET last_scheduled_at = ? WHERE id = ? AND (last_scheduled_at IS NULL OR last_scheduled_at < ?)",
            )
            .run(scheduledFor, job.id, scheduledFor);
        }
        return this.get(Number(result.lastInsertRowid));
      })
      .immediate();
  }

  start(id: number, startedAt: string): void {
    this.db
      .query("UPDATE cron_runs SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ?")
      .run(startedAt, id);
  }

  /** The process of the current attempt, so a scheduler that died can have it killed after restart. */
  setProcess(id: number, pid: number, pidStart: number | undefined, attempts: number): void {
    this.db
      .query("UPDATE cron_runs SET pid = ?, pid_start = ?, attempts = ? WHERE id = ?")
      .run(pid, pidStart ?? null, attempts, id);
  }

  /**
   * IMMEDIATE, like every write transaction here: a deferred one that reads first fails at once with
   * "database is locked" when another process (a box job's `a3s box run`) writes in between.
   */
  finish(id: number, finish: Finish): void {
    this.db
      .transaction(() => {
        const row = this.db.query("SELECT job_id FROM cron_runs WHERE id = ?").get(id) as {
          job_id: string;
        } | null;
        this.db
          .query(
            `UPDATE cron_runs SET status = ?, reason = ?, attempts = ?, started_at = ?, finished_at = ?, duration_ms = ?,
            exit_code = ?, signal = ?, stdout = ?, stderr = ?, stdout_dropped = ?, stderr_dropped = ? WHERE id = ?`,
          )
          .run(
            finish.status,
            finish.reason,
            finish.attempts,
            finish.startedAt,
            finish.finishedAt,
            finish.durationMs,
            finish.exitCode,
            finish.signal,
            finish.stdout,
            finish.stderr,
            finish.stdoutDropped,
            finish.stderrDropped,
            id,
          );
        if (!row) return;
        const ok = finish.status === "success" ? 1 : 0;
        this.db
          .query(
            `UPDATE cron_jobs SET run_count = run_count + 1, success_count = success_count + ?,
            failure_count = failure_count + ?, last_run_at = ?, last_status = ? WHERE id = ?`,
          )
          .run(ok, 1 - ok, finish.startedAt, finish.status, row.job_id);
      })
      .immediate();
  }

  /** A queued or running run that will not run (any more): skipped (never started) or failed. */
  abandon(id: number, status: "skipped" | "failed", reason: string, now: string): void {
    this.db
      .query(
        "UPDATE cron_runs SET status = ?, reason = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'running')",
      )
      .run(status, reason, now, id);
  }

  get(id: number): Run | undefined {
    const row = this.db.query(`SELECT ${LIST_COLUMNS} FROM cron_runs WHERE id = ?`).get(id) as RunRow | null;
    return row ? fromRow(row) : undefined;
  }

  withOutput(id: number): RunWithOutput {
    const row = this.db.query("SELECT * FROM cron_runs WHERE id = ?").get(id) as RunRow | null;
    if (!row) throw new A3sError("not_found", `no such run: ${id}`, { hint: "see 'a3s cron history'" });
    return { ...fromRow(row), stdout: row.stdout, stderr: row.stderr };
  }

  /** Newest first. */
  list(filter: { jobId?: string; status?: RunStatus; limit?: number } = {}): Run[] {
    const where: string[] = [];
    const values: Array<string | number> = [];
    if (filter.jobId !== undefined) {
      where.push("job_id = ?");
      values.push(filter.jobId);
    }
    if (filter.status !== undefined) {
      where.push("status = ?");
      values.push(filter.status);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const limit = filter.limit === undefined ? "" : `LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    return (
      this.db
        .query(`SELECT ${LIST_COLUMNS} FROM cron_runs ${clause} ORDER BY id DESC ${limit}`)
        .all(...values) as RunRow[]
    ).map(fromRow);
  }

  /** Runs still queued or running, with the process that owns them and the process they started. */
  unfinished(): Array<Run & { owner: Owner; pidStart: number | null }> {
    return (
      this.db.query("SELECT * FROM cron_runs WHERE status IN ('queued', 'running')").all() as RunRow[]
    ).map((row) => ({
      ...fromRow(row),
      owner: { pid: row.owner_pid, start: row.owner_start ?? undefined },
      pidStart: row.pid_start,
    }));
  }
}
