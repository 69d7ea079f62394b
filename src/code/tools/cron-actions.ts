/** What the cron tool does, on the cron core (jobs, runs, daemon status) in A3S_HOME. */
import { A3sError } from "../../core/errors.ts";
import { type CronContext, openCronContext } from "../../cron/context.ts";
import { daemonStatus } from "../../cron/daemon.ts";
import { formatDuration } from "../../cron/duration.ts";
import { addJob, listJobs, removeJob, setEnabled } from "../../cron/jobs.ts";
import { describeExpression } from "../../cron/parse/describe.ts";
import { formatInZone } from "../../cron/schedule.ts";
import type { Job } from "../../cron/store.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import type { CronInput as Input } from "./cron.ts";

function required(value: string | undefined, field: string, action: string): string {
  if (value === undefined || value.trim() === "") throw new A3sError("usage", `${action} needs ${field}`);
  return value;
}

function describeJob(job: Job): string {
  const next =
    job.nextRunAt === null ? "paused" : `next run ${formatInZone(Date.parse(job.nextRunAt), job.timezone)}`;
  const where = job.kind === "box" ? ` in box ${job.image}` : "";
  return `${job.name} (${job.id.slice(0, 12)}): ${job.expression} = ${describeExpression(job.expression)} (${job.timezone}); ${next}; runs${where}: ${job.command}`;
}

function history(cron: CronContext, value: Input): string {
  const jobId = value.job === undefined ? undefined : cron.jobs.resolve(value.job).id;
  const runs = cron.runs.list({ ...(jobId ? { jobId } : {}), limit: value.limit });
  if (runs.length === 0) return "No runs yet.";
  return runs
    .map((run) => {
      const exit = run.exitCode === null ? "" : `, exit ${run.exitCode}`;
      const took = run.durationMs === null ? "" : ` in ${formatDuration(run.durationMs)}`;
      const reason = run.reason ? ` (${run.reason})` : "";
      return `run ${run.id} of ${run.jobName} at ${run.startedAt ?? run.scheduledFor ?? "?"}: ${run.status}${exit}${took}${reason}`;
    })
    .join("\n");
}

function act(cron: CronContext, value: Input, ctx: ToolContext): ToolResult {
  switch (value.action) {
    case "add": {
      const job = addJob(cron, {
        schedule: required(value.schedule, "a schedule", "add"),
        command: required(value.command, "a command", "add"),
        workdir: ctx.cwd,
        ...(value.name !== undefined ? { name: value.name } : {}),
        ...(value.box_image !== undefined ? { box: value.box_image } : {}),
      });
      const daemon = daemonStatus(cron.db).running
        ? "The cron daemon is running and will run it."
        : "The cron daemon is not running: the job runs once it is started (a3s cron daemon --detach).";
      return { content: `Added job ${describeJob(job)}\n${daemon}`, summary: `Added cron job ${job.name}` };
    }
    case "list": {
      const jobs = listJobs(cron);
      if (jobs.length === 0) return { content: "No cron jobs.", summary: "0 jobs" };
      return {
        content: jobs.map(describeJob).join("\n"),
        summary: `${jobs.length} job${jobs.length === 1 ? "" : "s"}`,
      };
    }
    case "remove": {
      const job = removeJob(cron, required(value.job, "a job name or id", "remove"));
      return { content: `Removed job ${job.name} and its history.`, summary: `Removed cron job ${job.name}` };
    }
    case "pause":
    case "resume": {
      const job = setEnabled(
        cron,
        required(value.job, "a job name or id", value.action),
        value.action === "resume",
      );
      return {
        content: `${value.action === "pause" ? "Paused" : "Resumed"} job ${describeJob(job)}`,
        summary: `${value.action === "pause" ? "Paused" : "Resumed"} cron job ${job.name}`,
      };
    }
    case "history": {
      const text = history(cron, value);
      return { content: text, summary: "Cron history" };
    }
  }
}

export function runCronAction(value: Input, ctx: ToolContext): ToolResult {
  const cron = openCronContext(ctx.home.paths, ctx.env);
  try {
    return act(cron, value, ctx);
  } finally {
    cron.db.close();
  }
}
