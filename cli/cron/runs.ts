/** Run commands: run (now), history, logs. */
import { Command, Option } from "commander";
import { A3sError } from "../../src/core/errors.ts";
import { formatDuration } from "../../src/cron/duration.ts";
import { OUTPUT_CAP_BYTES, RUN_STATUSES, type RunStatus, type RunWithOutput } from "../../src/cron/runs.ts";
import type { Output } from "../output.ts";
import { openCron } from "./open.ts";
import { oneOf } from "./options.ts";

/** The captured output, stdout to stdout and stderr to stderr, with a note where the cap cut it. */
function replay(out: Output, run: RunWithOutput): void {
  if (run.stdoutDropped > 0)
    out.stderr.write(
      `[${run.stdoutDropped} bytes of stdout before the last ${OUTPUT_CAP_BYTES} were dropped]\n`,
    );
  out.stdout.write(run.stdout);
  if (run.stderrDropped > 0)
    out.stderr.write(
      `[${run.stderrDropped} bytes of stderr before the last ${OUTPUT_CAP_BYTES} were dropped]\n`,
    );
  out.stderr.write(run.stderr);
}

export function runCommand(): Command {
  return new Command("run")
    .description("Run a job now, in the foreground, recorded in history (exits with the job's status)")
    .argument("<job>", "job name, ID or ID prefix")
    .action(async (ref: string, _flags: unknown, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const { runNow } = await import("../../src/cron/jobs.ts");
      const run = await runNow(cron, ref);
      if (out.json) out.printJson(run);
      else {
        replay(out, run);
        const exit = run.exitCode === null ? "" : `, exit ${run.exitCode}`;
        out.info(
          `run ${run.id} of ${run.jobName}: ${run.status} in ${formatDuration(run.durationMs ?? 0)}${exit}${run.reason ? ` (${run.reason})` : ""}`,
        );
      }
      // Like `timeout` and `docker run`: the job's exit status, 124 for a timeout, 1 when it had none.
      if (run.status !== "success") process.exitCode = run.status === "timeout" ? 124 : run.exitCode || 1;
    });
}

export function historyCommand(): Command {
  return new Command("history")
    .description("Show past runs, newest first")
    .argument("[job]", "only this job (name, ID or ID prefix)")
    .option("-n, --limit <n>", "show at most n runs", "20")
    .addOption(new Option("--status <status>", "only runs with this status").choices([...RUN_STATUSES]))
    .option("--format <format>", "'table', 'json' or a Go template such as '{{.id}} {{.status}}'")
    .action(
      async (
        ref: string | undefined,
        flags: { limit: string; status?: string; format?: string },
        cmd: Command,
      ) => {
        const { out, cron } = await openCron(cmd);
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new A3sError("usage", `invalid --limit '${flags.limit}'`);
        const runs = cron.runs.list({
          ...(ref === undefined ? {} : { jobId: cron.jobs.resolve(ref).id }),
          ...(flags.status === undefined
            ? {}
            : { status: oneOf<RunStatus>(flags.status, RUN_STATUSES, "--status") }),
          limit,
        });
        const { runColumns } = await import("./render.ts");
        out.list(runs, runColumns(), flags.format);
      },
    );
}

export function logsCommand(): Command {
  return new Command("logs")
    .description(
      `Print the output of a run (the last ${OUTPUT_CAP_BYTES / 1024} KiB of each stream are kept)`,
    )
    .argument("<run>", "run ID, from 'a3s cron history'")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      if (!/^\d+$/.test(id))
        throw new A3sError("usage", `invalid run ID '${id}'`, { hint: "see 'a3s cron history'" });
      const run = cron.runs.withOutput(Number(id));
      if (out.json) out.printJson(run);
      else replay(out, run);
    });
}
