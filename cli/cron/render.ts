/** How jobs and runs look in tables and key/value views. */

import { formatDuration } from "../../src/cron/duration.ts";
import type { Run } from "../../src/cron/runs.ts";
import { formatInZone } from "../../src/cron/schedule.ts";
import type { Job } from "../../src/cron/store.ts";
import { timeAgo } from "../format.ts";
import type { Column } from "../output.ts";

export function jobStatus(job: Job): string {
  return job.enabled ? "active" : "paused";
}

export function commandText(job: Job): string {
  if (job.kind === "box") return `[box ${job.image}] ${job.command}`;
  if (job.kind === "agent") return `[agent] ${job.command}`;
  return job.command;
}

const truncate = (text: string, width: number) =>
  text.length <= width ? text : `${text.slice(0, width - 1)}…`;

/** A due time in the job's zone, without the offset when it is the viewer's. */
export function when(iso: string | null, zone: string): string {
  if (iso === null) return "-";
  return formatInZone(Date.parse(iso), zone);
}

export function jobColumns(noTrunc: boolean): Array<Column<Job>> {
  return [
    { header: "ID", value: (job) => job.id },
    { header: "NAME", value: (job) => job.name },
    { header: "SCHEDULE", value: (job) => (noTrunc ? job.schedule : truncate(job.schedule, 28)) },
    { header: "EXPRESSION", value: (job) => job.expression },
    { header: "NEXT RUN", value: (job) => when(job.nextRunAt, job.timezone) },
    {
      header: "LAST",
      value: (job) =>
        job.lastStatus === null ? "-" : `${job.lastStatus} ${timeAgo(job.lastRunAt ?? undefined)}`,
    },
    { header: "STATUS", value: jobStatus },
    { header: "COMMAND", value: (job) => (noTrunc ? commandText(job) : truncate(commandText(job), 40)) },
  ];
}

export function runColumns(): Array<Column<Run>> {
  return [
    { header: "RUN", value: (run) => String(run.id) },
    { header: "JOB", value: (run) => run.jobName },
    { header: "TRIGGER", value: (run) => run.trigger },
    { header: "SCHEDULED", value: (run) => run.scheduledFor ?? "-" },
    { header: "STARTED", value: (run) => run.startedAt ?? "-" },
    { header: "DURATION", value: (run) => (run.durationMs === null ? "-" : formatDuration(run.durationMs)) },
    { header: "STATUS", value: (run) => run.status },
    { header: "EXIT", value: (run) => (run.exitCode === null ? (run.signal ?? "-") : String(run.exitCode)) },
    { header: "REASON", value: (run) => run.reason ?? "" },
  ];
}

/** Aligned "key: value" lines for show. */
export function keyValues(pairs: ReadonlyArray<[string, string]>): string {
  const width = Math.max(...pairs.map(([key]) => key.length)) + 1;
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}`).join("\n");
}
