/**
 * Cron jobs in SQLite and Docker's rules for finding one: full id, exact name, or a unique id
 * prefix. Field names here are the ones `--json` prints; they are part of the interface.
 */
import type { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { A3sError } from "../core/errors.ts";

export type JobKind = "shell" | "box" | "agent";
export type Overlap = "skip" | "queue" | "allow";
export type CatchUp = "none" | "last" | "all";
export const OVERLAPS: readonly Overlap[] = ["skip", "queue", "allow"];
export const CATCH_UPS: readonly CatchUp[] = ["none", "last", "all"];

/** A type (not an interface) so rows fit Record<string, unknown> for --format templates. */
export type Job = {
  id: string;
  name: string;
  /** What the user wrote, e.g. "every weekday at 9am". */
  schedule: string;
  /** The cron expression it means, e.g. "0 9 * * 1-5". */
  expression: string;
  /** IANA zone the expression is read in. */
  timezone: string;
  kind: JobKind;
  /** Shell text (shell and box jobs) or the prompt (agent jobs). */
  command: string;
  /** The image of a box job. */
  image: string | null;
  workdir: string;
  env: Record<string, string>;
  timeoutMs: number | null;
  retries: number;
  overlap: Overlap;
  /** Overrides the daemon's --catch-up for this job. */
  catchUp: CatchUp | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastScheduledAt: string | null;
  lastRunAt: string | null;
  lastStatus: string | null;
  nextRunAt: string | null;
  runCount: number;
  successCount: number;
  failureCount: number;
};

interface JobRow {
  id: string;
  name: string;
  schedule: string;
  expression: string;
  timezone: string;
  kind: JobKind;
  command: string;
  image: string | null;
  workdir: string;
  env: string;
  timeout_ms: number | null;
  retries: number;
  overlap: Overlap;
  catch_up: CatchUp | null;
  enabled: number;
  created_at: string;
  updated_at: string;
  last_scheduled_at: string | null;
  last_run_at: string | null;
  last_status: string | null;
  next_run_at: string | null;
  run_count: number;
  success_count: number;
  failure_count: number;
}

function fromRow(row: JobRow): Job {
  return {
    id: row.id,
    name: row.name,
    schedule: row.schedule,
    expression: row.expression,
    timezone: row.timezone,
    kind: row.kind,
    command: row.command,
    image: row.image,
    workdir: row.workdir,
    env: JSON.parse(row.env) as Record<string, string>,
    timeoutMs: row.timeout_ms,
    retries: row.retries,
    overlap: row.overlap,
    catchUp: row.catch_up,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastScheduledAt: row.last_scheduled_at,
    lastRunAt: row.last_run_at,
    lastStatus: row.last_status,
    nextRunAt: row.next_run_at,
    runCount: row.run_count,
    successCount: row.success_count,
    failureCount: row.failure_count,
  };
}

/** The fields a user sets; the rest is bookkeeping. */
export type JobInput = Pick<
  Job,
  | "name"
  | "schedule"
  | "expression"
  | "timezone"
  | "kind"
  | "command"
  | "image"
  | "workdir"
  | "env"
  | "timeoutMs"
  | "retries"
  | "overlap"
  | "catchUp"
  | "enabled"
>;

const COLUMNS: Record<keyof JobInput | "nextRunAt" | "updatedAt" | "lastScheduledAt", string> = {
  name: "name",
  schedule: "schedule",
  expression: "expression",
  timezone: "timezone",
  kind: "kind",
  command: "command",
  image: "image",
  workdir: "workdir",
  env: "env",
  timeoutMs: "timeout_ms",
  retries: "retries",
  overlap: "overlap",
  catchUp: "catch_up",
  enabled: "enabled",
  nextRunAt: "next_run_at",
  updatedAt: "updated_at",
  lastScheduledAt: "last_scheduled_at",
};

export type JobPatch = Partial<JobInput & Pick<Job, "nextRunAt" | "updatedAt" | "lastScheduledAt">>;

function toColumn(key: string, value: unknown): unknown {
  if (key === "env") return JSON.stringify(value);
  if (key === "enabled") return value ? 1 : 0;
  return value;
}

export const VALID_JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class JobStore {
  constructor(private readonly db: Database) {}

  insert(input: JobInput & { nextRunAt: string | null }, now: string): Job {
    if (!VALID_JOB_NAME.test(input.name)) {
      throw new A3sError(
        "usage",
        `invalid job name '${input.name}': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
    if (this.byName(input.name)) throw new A3sError("conflict", `a job named '${input.name}' already exists`);
    const id = randomBytes(6).toString("hex");
    this.db
      .query(
        `INSERT INTO cron_jobs (id, name, schedule, expression, timezone, kind, command, image, workdir, env,
          timeout_ms, retries, overlap, catch_up, enabled, created_at, updated_at, next_run_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.name,
        input.schedule,
        input.expression,
        input.timezone,
        input.kind,
        input.command,
        input.image,
        input.workdir,
        JSON.stringify(input.env),
        input.timeoutMs,
        input.retries,
        input.overlap,
        input.catchUp,
        input.enabled ? 1 : 0,
        now,
        now,
        input.nextRunAt,
      );
    return this.get(id) as Job;
  }

  get(id: string): Job | undefined {
    const row = this.db.query("SELECT * FROM cron_jobs WHERE id = ?").get(id) as JobRow | null;
    return row ? fromRow(row) : undefined;
  }

  byName(name: string): Job | undefined {
    const row = this.db.query("SELECT * FROM cron_jobs WHERE name = ?").get(name) as JobRow | null;
    return row ? fromRow(row) : undefined;
  }

  /** Oldest first, the order they were added. */
  list(): Job[] {
    return (this.db.query("SELECT * FROM cron_jobs ORDER BY created_at, id").all() as JobRow[]).map(fromRow);
  }

  /** Full id, exact name, or a unique id prefix (Docker's rules). */
  resolve(ref: string): Job {
    const exact = this.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    if (/^[0-9a-f]+$/.test(ref)) {
      const rows = this.db
        .query("SELECT * FROM cron_jobs WHERE id LIKE ? || '%' LIMIT 2")
        .all(ref) as JobRow[];
      if (rows.length === 1) return fromRow(rows[0] as JobRow);
      if (rows.length > 1) throw new A3sError("conflict", `job id prefix '${ref}' is ambiguous`);
    }
    throw new A3sError("not_found", `no such job: ${ref}`, { hint: "see 'a3s cron ls'" });
  }

  update(id: string, patch: JobPatch): Job {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
    if (patch.name !== undefined) {
      if (!VALID_JOB_NAME.test(patch.name))
        throw new A3sError(
          "usage",
          `invalid job name '${patch.name}': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
        );
      const other = this.byName(patch.name);
      if (other && other.id !== id)
        throw new A3sError("conflict", `a job named '${patch.name}' already exists`);
    }
    if (entries.length > 0) {
      const sets = entries.map(([key]) => `${COLUMNS[key as keyof typeof COLUMNS]} = ?`).join(", ");
      const values = entries.map(([key, value]) => toColumn(key, value)) as Array<string | number | null>;
      this.db.query(`UPDATE cron_jobs SET ${sets} WHERE id = ?`).run(...values, id);
    }
    const job = this.get(id);
    if (!job) throw new A3sError("not_found", `no such job: ${id}`);
    return job;
  }

  /** Next-run times the scheduler computed, written in one transaction (10,000 jobs at start). */
  setNextRuns(next: ReadonlyArray<{ id: string; nextRunAt: string | null }>): void {
    const statement = this.db.query("UPDATE cron_jobs SET next_run_at = ? WHERE id = ?");
    this.db
      .transaction(() => {
        for (const { id, nextRunAt } of next) statement.run(nextRunAt, id);
      })
      .immediate();
  }

  delete(id: string): void {
    this.db.query("DELETE FROM cron_jobs WHERE id = ?").run(id);
  }
}
