/** Job commands: add, ls, show, edit, pause, resume, rm. */
import { Command, Option } from "commander";
import { formatDuration } from "../../src/cron/duration.ts";
import type { Job } from "../../src/cron/store.ts";
import { collect } from "../options.ts";
import type { Output } from "../output.ts";
import { openCron } from "./open.ts";
import { type JobFlags, jobOptions, parseEnv, shellCommand } from "./options.ts";

/** Flags shared by add and edit. */
function withJobOptions(command: Command): Command {
  return command
    .option("--name <name>", "job name (default: a generated one)")
    .option("--tz <zone>", "IANA time zone the schedule is read in (default: cron.timezone or local)")
    .option("--timeout <duration>", "kill the job's process group after this long: 90, 30s, 5m, 1h30m, none")
    .option("--retries <n>", "retry a failed run this many times, with backoff from 1 s")
    .addOption(
      new Option("--overlap <policy>", "when a run is due while the last still runs").choices([
        "skip",
        "queue",
        "allow",
      ]),
    )
    .addOption(
      new Option("--catch-up <policy>", "missed runs after a downtime (default: the daemon's)").choices([
        "none",
        "last",
        "all",
      ]),
    )
    .option("-e, --env <KEY=VALUE>", "set an environment variable (repeatable)", collect, [])
    .option("-w, --workdir <dir>", "working directory (default: the current one)")
    .option("--box <image>", "run the command in a box of this image (a3s box run --rm)")
    .option("--agent <prompt>", "run a3s code with this prompt instead of a command");
}

interface AddFlags extends JobFlags {
  env: string[];
  paused?: boolean;
}

async function printJob(out: Output, job: Job): Promise<void> {
  if (out.json) {
    out.printJson(job);
    return;
  }
  out.line(job.id);
  // render.ts formats times with src/cron/schedule.ts, which loads cron-parser and luxon.
  const [{ describeExpression }, { when }] = await Promise.all([
    import("../../src/cron/parse/describe.ts"),
    import("./render.ts"),
  ]);
  const next = job.nextRunAt === null ? "paused" : `next run ${when(job.nextRunAt, job.timezone)}`;
  out.info(
    `${job.name}: ${job.expression} (${describeExpression(job.expression)}, ${job.timezone}); ${next}`,
  );
}

export function addCommand(): Command {
  return withJobOptions(
    new Command("add")
      .description("Add a job: a schedule (cron or plain English/Chinese) and a command after --")
      .argument("<schedule>", 'e.g. "every weekday at 9am", "每天凌晨2点", "0 9 * * 1-5"')
      .argument("[command...]", "the command, after --"),
  )
    .option("--paused", "add the job paused")
    .addHelpText("after", '\nExample:\n  a3s cron add "every weekday at 9am" --name backup -- ./backup.sh')
    .action(async (schedule: string, words: string[], flags: AddFlags, cmd: Command) => {
      const { out, cron, env } = await openCron(cmd);
      const options = await jobOptions(flags);
      const { addJob } = await import("../../src/cron/jobs.ts");
      const job = addJob(cron, {
        ...options,
        schedule,
        command: options.agent ?? shellCommand(words),
        env: parseEnv(flags.env, env),
        ...(flags.paused ? { paused: true } : {}),
      });
      await printJob(out, job);
    });
}

export function lsCommand(): Command {
  return new Command("ls")
    .alias("list")
    .description("List jobs with their next run")
    .option("-q, --quiet", "only show IDs")
    .option("--format <format>", "'table', 'json' or a Go template such as '{{.name}} {{.nextRunAt}}'")
    .option("--no-trunc", "do not truncate output")
    .action(async (flags: { quiet?: boolean; format?: string; trunc: boolean }, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const [{ listJobs }, { jobColumns }] = await Promise.all([
        import("../../src/cron/jobs.ts"),
        import("./render.ts"),
      ]);
      const jobs = listJobs(cron);
      if (flags.quiet) {
        for (const job of jobs) out.line(job.id);
        return;
      }
      out.list(jobs, jobColumns(!flags.trunc), flags.format);
    });
}

export function showCommand(): Command {
  return new Command("show")
    .alias("inspect")
    .description("Show a job")
    .argument("<job>", "job name, ID or ID prefix")
    .action(async (ref: string, _flags: unknown, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const [
        { listJobs, upcoming },
        { describeExpression },
        { formatInZone },
        { commandText, jobStatus, keyValues },
      ] = await Promise.all([
        import("../../src/cron/jobs.ts"),
        import("../../src/cron/parse/describe.ts"),
        import("../../src/cron/schedule.ts"),
        import("./render.ts"),
      ]);
      const job = cron.jobs.resolve(ref);
      const [shown] = listJobs(cron).filter((j) => j.id === job.id);
      const current = shown ?? job;
      const description = describeExpression(job.expression);
      if (out.json) {
        out.printJson({ ...current, description });
        return;
      }
      const next = upcoming(job, 3).map((t) => formatInZone(t, job.timezone));
      out.line(
        keyValues([
          ["id", job.id],
          ["name", job.name],
          ["status", jobStatus(job)],
          ["schedule", job.schedule],
          ["expression", `${job.expression}  (${description})`],
          ["time zone", job.timezone],
          ["command", commandText(job)],
          ["workdir", job.workdir],
          [
            "env",
            Object.entries(job.env)
              .map(([k, v]) => `${k}=${v}`)
              .join(" ") || "-",
          ],
          ["timeout", job.timeoutMs === null ? "none" : formatDuration(job.timeoutMs)],
          ["retries", String(job.retries)],
          ["overlap", job.overlap],
          ["catch-up", job.catchUp ?? "the daemon's"],
          ["created", job.createdAt],
          ["updated", job.updatedAt],
          ["last run", job.lastRunAt === null ? "-" : `${job.lastRunAt} (${job.lastStatus})`],
          ["next runs", job.enabled ? next.join(", ") : "paused"],
          ["runs", `${job.runCount} (${job.successCount} succeeded, ${job.failureCount} failed)`],
        ]),
      );
    });
}

interface EditFlags extends Omit<JobFlags, "box"> {
  schedule?: string;
  env: string[];
  unsetEnv: string[];
  /** commander turns --no-box into false. */
  box?: string | false;
}

export function editCommand(): Command {
  return withJobOptions(
    new Command("edit")
      .alias("update")
      .description("Change a job's schedule, command or options (a new command goes after --)")
      .argument("<job>", "job name, ID or ID prefix")
      .argument("[command...]", "a new command, after --"),
  )
    .option("--schedule <schedule>", "a new schedule")
    .option("--unset-env <KEY>", "remove an environment variable (repeatable)", collect, [])
    .option("--no-box", "run the command on the host again")
    .action(async (ref: string, words: string[], flags: EditFlags, cmd: Command) => {
      const { out, cron, env } = await openCron(cmd);
      const noBox = flags.box === false;
      const { box: _box, ...rest } = flags;
      const options = await jobOptions({
        ...rest,
        ...(typeof flags.box === "string" ? { box: flags.box } : {}),
      });
      const { editJob } = await import("../../src/cron/jobs.ts");
      const job = editJob(cron, ref, {
        ...options,
        ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
        ...(words.length > 0 ? { command: shellCommand(words) } : {}),
        ...(options.agent !== undefined ? { command: options.agent } : {}),
        ...(flags.env.length > 0 ? { env: parseEnv(flags.env, env) } : {}),
        ...(flags.unsetEnv.length > 0 ? { unsetEnv: flags.unsetEnv } : {}),
        ...(noBox ? { noBox } : {}),
      });
      await printJob(out, job);
    });
}

/** Runs `work` on each job, printing names as Docker does; one failure fails the command at the end. */
function forEachJob(out: Output, refs: string[], work: (ref: string) => Job): void {
  const done: Array<{ id: string; name: string }> = [];
  let failure: unknown;
  for (const ref of refs) {
    try {
      const job = work(ref);
      done.push({ id: job.id, name: job.name });
      if (!out.json) out.line(job.name);
    } catch (err) {
      if (refs.length === 1) throw err;
      failure = err;
      out.stderr.write(`error: ${(err as Error).message}\n`);
    }
  }
  if (out.json) out.printJson(done);
  if (failure) throw failure;
}

export function pauseCommand(): Command {
  return new Command("pause")
    .description("Pause jobs (they keep their history and run again on resume)")
    .argument("<job...>", "job names, IDs or ID prefixes")
    .action(async (refs: string[], _flags: unknown, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const { setEnabled } = await import("../../src/cron/jobs.ts");
      forEachJob(out, refs, (ref) => setEnabled(cron, ref, false));
    });
}

export function resumeCommand(): Command {
  return new Command("resume")
    .description("Resume paused jobs (due times while paused are not caught up)")
    .argument("<job...>", "job names, IDs or ID prefixes")
    .action(async (refs: string[], _flags: unknown, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const { setEnabled } = await import("../../src/cron/jobs.ts");
      forEachJob(out, refs, (ref) => setEnabled(cron, ref, true));
    });
}

export function rmCommand(): Command {
  return new Command("rm")
    .alias("remove")
    .description("Remove jobs and their history")
    .argument("<job...>", "job names, IDs or ID prefixes")
    .action(async (refs: string[], _flags: unknown, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const { removeJob } = await import("../../src/cron/jobs.ts");
      forEachJob(out, refs, (ref) => removeJob(cron, ref));
    });
}
