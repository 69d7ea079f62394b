/**
 * What the cron commands do to jobs: add, edit, pause, resume, remove, list, run now. Each change
 * is validated completely before it is stored, and a running daemon is told about it at once.
 */
import { isAbsolute, resolve } from "node:path";
import { generateName } from "../box/names.ts";
import { A3sError } from "../core/errors.ts";
import { isDirectory } from "../core/fs.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type CronContext, selfCommand } from "./context.ts";
import { currentOwner, notifyDaemon } from "./daemon.ts";
import { executeRun } from "./execute.ts";
import { parseSchedule } from "./parse/natural.ts";
import type { RunWithOutput } from "./runs.ts";
import { nextRun, nextRuns, resolveTimeZone } from "./schedule.ts";
import type { CatchUp, Job, JobInput, JobKind, JobPatch, Overlap } from "./store.ts";

export interface JobOptions {
  name?: string;
  tz?: string;
  timeoutMs?: number | null;
  retries?: number;
  overlap?: Overlap;
  catchUp?: CatchUp | null;
  workdir?: string;
  /** Run the command in a box of this image. */
  box?: string;
  /** A prompt for `a3s code run` instead of a shell command. */
  agent?: string;
}

export interface AddInput extends JobOptions {
  schedule: string;
  command: string;
  env?: Record<string, string>;
  paused?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

function checkWorkdir(dir: string): string {
  const absolute = isAbsolute(dir) ? dir : resolve(dir);
  if (!isDirectory(absolute)) throw new A3sError("usage", `working directory ${absolute} does not exist`);
  return absolute;
}

function checkRetries(retries: number): number {
  if (!Number.isInteger(retries) || retries < 0 || retries > 100)
    throw new A3sError("usage", `invalid --retries '${retries}': a whole number from 0 to 100`);
  return retries;
}

function kindOf(options: JobOptions): { kind: JobKind; image: string | null } {
  if (options.agent !== undefined) {
    if (options.box !== undefined) throw new A3sError("usage", "--agent and --box cannot be combined");
    if (options.agent.trim() === "") throw new A3sError("usage", "--agent needs a prompt");
    return { kind: "agent", image: null };
  }
  if (options.box !== undefined) {
    if (options.box.trim() === "") throw new A3sError("usage", "--box needs an image");
    return { kind: "box", image: options.box };
  }
  return { kind: "shell", image: null };
}

export function addJob(ctx: CronContext, input: AddInput, now = Date.now()): Job {
  const { kind, image } = kindOf(input);
  if (input.command.trim() === "") {
    throw new A3sError("usage", "no command to run", {
      hint: `a3s cron add "${input.schedule}" -- ./backup.sh`,
    });
  }
  const parsed = parseSchedule(input.schedule);
  const timezone = resolveTimeZone(input.tz, ctx.config.cron.timezone);
  const name = input.name ?? generateName((candidate) => ctx.jobs.byName(candidate) !== undefined);
  const enabled = input.paused !== true;
  const next = enabled ? nextRun(parsed.expression, timezone, now) : undefined;
  const job: JobInput & { nextRunAt: string | null } = {
    name,
    schedule: parsed.text,
    expression: parsed.expression,
    timezone,
    kind,
    command: input.command,
    image,
    workdir: checkWorkdir(input.workdir ?? process.cwd()),
    env: input.env ?? {},
    timeoutMs: input.timeoutMs ?? null,
    retries: checkRetries(input.retries ?? 0),
    overlap: input.overlap ?? "skip",
    catchUp: input.catchUp ?? null,
    enabled,
    nextRunAt: next === undefined ? null : iso(next),
  };
  const added = ctx.jobs.insert(job, iso(now));
  notifyDaemon(ctx.db);
  return added;
}

export interface EditInput extends JobOptions {
  schedule?: string;
  command?: string;
  /** Set or replace these variables. */
  env?: Record<string, string>;
  /** Remove these variables. */
  unsetEnv?: string[];
  /** Turn a box job back into a plain shell job. */
  noBox?: boolean;
}

export function editJob(ctx: CronContext, ref: string, input: EditInput, now = Date.now()): Job {
  const job = ctx.jobs.resolve(ref);
  const patch: JobPatch = {};
  if (input.schedule !== undefined) {
    const parsed = parseSchedule(input.schedule);
    patch.schedule = parsed.text;
    patch.expression = parsed.expression;
  }
  if (input.tz !== undefined) patch.timezone = resolveTimeZone(input.tz);
  if (input.name !== undefined) patch.name = input.name;
  if (input.command !== undefined) {
    if (input.command.trim() === "") throw new A3sError("usage", "no command to run");
    patch.command = input.command;
  }
  if (input.box !== undefined && input.noBox)
    throw new A3sError("usage", "--box and --no-box contradict each other");
  if (input.box !== undefined || input.agent !== undefined) Object.assign(patch, kindOf(input));
  if (input.noBox) Object.assign(patch, { kind: "shell", image: null });
  if (input.timeoutMs !== undefined) patch.timeoutMs = input.timeoutMs;
  if (input.retries !== undefined) patch.retries = checkRetries(input.retries);
  if (input.overlap !== undefined) patch.overlap = input.overlap;
  if (input.catchUp !== undefined) patch.catchUp = input.catchUp;
  if (input.workdir !== undefined) patch.workdir = checkWorkdir(input.workdir);
  if (input.env !== undefined || input.unsetEnv !== undefined) {
    const env = { ...job.env, ...input.env };
    for (const key of input.unsetEnv ?? []) delete env[key];
    patch.env = env;
  }
  if (Object.keys(patch).length === 0) {
    throw new A3sError("usage", "nothing to change", { hint: "see 'a3s cron edit --help'" });
  }
  const expression = patch.expression ?? job.expression;
  const timezone = patch.timezone ?? job.timezone;
  const next = job.enabled ? nextRun(expression, timezone, now) : undefined;
  const updated = ctx.jobs.update(job.id, {
    ...patch,
    updatedAt: iso(now),
    nextRunAt: next === undefined ? null : iso(next),
  });
  notifyDaemon(ctx.db);
  return updated;
}

export function setEnabled(ctx: CronContext, ref: string, enabled: boolean, now = Date.now()): Job {
  const job = ctx.jobs.resolve(ref);
  if (job.enabled === enabled) return job;
  const next = enabled ? nextRun(job.expression, job.timezone, now) : undefined;
  const updated = ctx.jobs.update(job.id, {
    enabled,
    updatedAt: iso(now),
    nextRunAt: next === undefined ? null : iso(next),
  });
  notifyDaemon(ctx.db);
  return updated;
}

/** Removes a job and its history. A run in progress finishes; its record goes with the job. */
export function removeJob(ctx: CronContext, ref: string): Job {
  const job = ctx.jobs.resolve(ref);
  ctx.jobs.delete(job.id);
  notifyDaemon(ctx.db);
  return job;
}

/**
 * Every job with its next run. The stored next run is the daemon's (or the last edit's); only when
 * it has passed (no daemon running) is it computed again, so listing 10,000 jobs stays fast.
 */
export function listJobs(ctx: CronContext, now = Date.now()): Job[] {
  return ctx.jobs.list().map((job) => {
    if (!job.enabled) return { ...job, nextRunAt: null };
    if (job.nextRunAt !== null && Date.parse(job.nextRunAt) > now) return job;
    const next = nextRun(job.expression, job.timezone, now);
    return { ...job, nextRunAt: next === undefined ? null : iso(next) };
  });
}

export function upcoming(job: Job, count: number, now = Date.now()): number[] {
  return nextRuns(job.expression, job.timezone, now, count);
}

/** `a3s cron run`: runs the job in this process now, recorded in history like any other run. */
export async function runNow(
  ctx: CronContext,
  ref: string,
  clock: Clock = systemClock,
): Promise<RunWithOutput> {
  const job = ctx.jobs.resolve(ref);
  const run = ctx.runs.claim({
    job,
    trigger: "manual",
    scheduledFor: null,
    owner: currentOwner(),
    now: iso(clock.now()),
  });
  if (!run) throw new A3sError("internal", `could not record a run of ${job.name}`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await executeRun(
      {
        runs: ctx.runs,
        clock,
        paths: ctx.paths,
        env: ctx.env,
        self: selfCommand(),
        signal: controller.signal,
      },
      job,
      run,
    );
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return ctx.runs.withOutput(run.id);
}
