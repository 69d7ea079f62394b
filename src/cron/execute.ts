/**
 * One run of a job from start to its history record: the command line for its kind (shell, box,
 * agent), the environment it sees, retries with exponential backoff, and the final status.
 */
import type { Paths } from "../core/paths.ts";
import type { Clock } from "./clock.ts";
import { runProcess } from "./runner.ts";
import type { Finish, Run, RunStore } from "./runs.ts";
import type { Job } from "./store.ts";

/** First retry after 1 s, then 2 s, 4 s… capped at 5 minutes. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS);
}

export interface ExecuteDeps {
  runs: RunStore;
  clock: Clock;
  paths: Paths;
  env: NodeJS.ProcessEnv;
  /** The a3s binary (or bun plus entry script) that box jobs call back into. */
  self: readonly string[];
  signal?: AbortSignal;
}

/**
 * The argv a job runs. Box jobs go through `a3s box run --rm`; agent jobs through `a3s code run`
 * headless, where a tool that would ask is denied unless config or .a3s/settings.json allow it.
 */
export function commandFor(job: Job, paths: Paths, self: readonly string[]): string[] {
  switch (job.kind) {
    case "shell":
      return ["/bin/sh", "-c", job.command];
    case "box": {
      const env = Object.entries(job.env).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
      return [
        ...self,
        "--home",
        paths.home,
        "box",
        "run",
        "--rm",
        ...env,
        job.image ?? "",
        "/bin/sh",
        "-c",
        job.command,
      ];
    }
    case "agent":
      return [...self, "--home", paths.home, "code", "run", "--", job.command];
  }
}

export function jobEnv(job: Job, run: Run, base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  Object.assign(env, job.env, {
    A3S_CRON_JOB_ID: job.id,
    A3S_CRON_JOB_NAME: job.name,
    A3S_CRON_RUN_ID: String(run.id),
    A3S_CRON_SCHEDULED_FOR: run.scheduledFor ?? "",
  });
  return env;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs a claimed run to its end and records it; never throws for a failing job. */
export async function executeRun(deps: ExecuteDeps, job: Job, run: Run): Promise<Finish> {
  const { clock, runs } = deps;
  const startedAt = clock.now();
  runs.start(run.id, iso(startedAt));
  let finish: Finish;
  try {
    const argv = commandFor(job, deps.paths, deps.self);
    const env = jobEnv(job, run, deps.env);
    let attempt = 0;
    for (;;) {
      attempt++;
      const result = await runProcess(
        { argv, cwd: job.workdir, env, timeoutMs: job.timeoutMs },
        {
          clock,
          ...(deps.signal ? { signal: deps.signal } : {}),
          onSpawn: (pid, start) => runs.setProcess(run.id, pid, start, attempt),
        },
      );
      finish = {
        status: result.status,
        reason: result.reason,
        attempts: attempt,
        startedAt: iso(startedAt),
        finishedAt: iso(result.finishedAt),
        durationMs: result.finishedAt - startedAt,
        exitCode: result.exitCode,
        signal: result.signal,
        stdout: result.stdout,
        stderr: result.stderr,
        stdoutDropped: result.stdoutDropped,
        stderrDropped: result.stderrDropped,
      };
      if (result.status === "success" || attempt > job.retries || deps.signal?.aborted) break;
      await clock.sleep(backoffMs(attempt), deps.signal);
      if (deps.signal?.aborted) break;
    }
  } catch (err) {
    const now = clock.now();
    finish = {
      status: "failed",
      reason: err instanceof Error ? err.message : String(err),
      attempts: 0,
      startedAt: iso(startedAt),
      finishedAt: iso(now),
      durationMs: now - startedAt,
      exitCode: null,
      signal: null,
      stdout: "",
      stderr: "",
      stdoutDropped: 0,
      stderrDropped: 0,
    };
  }
  runs.finish(run.id, finish);
  return finish;
}
