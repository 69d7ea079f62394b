/** The scheduler process: `cron daemon` (foreground), --detach, status, stop. */
import { Command, Option } from "commander";
import type { CatchUp } from "../../src/cron/store.ts";
import { openCron } from "./open.ts";

export function daemonCommand(): Command {
  const daemon = new Command("daemon")
    .description("Run the scheduler: in the foreground (logs to stderr), or --detach; status, stop")
    .option("-d, --detach", "run in the background (its log goes to ~/.a3s/logs/cron-daemon.log)")
    .addOption(
      new Option(
        "--catch-up <policy>",
        "due times missed while down: record them, run the last, or run all (default: cron.catchUp)",
      ).choices(["none", "last", "all"]),
    )
    .addOption(
      new Option("--log-file <path>", "where a detached daemon's stderr goes (set by --detach)").hideHelp(),
    )
    .action(async (flags: { detach?: boolean; catchUp?: CatchUp; logFile?: string }, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const { runDaemon, startDetached } = await import("../../src/cron/daemon.ts");
      if (flags.detach) {
        const status = await startDetached(cron, flags.catchUp);
        if (out.json) out.printJson(status);
        else {
          out.line(String(status.pid));
          out.info(`cron daemon started (pid ${status.pid}); log: ${status.log}`);
        }
        return;
      }
      (await import("../../src/core/jit.ts")).settleForLongRun();
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const report = (line: string) => {
        if (out.json) out.jsonLine({ time: new Date().toISOString(), message: line });
        else out.stderr.write(`${new Date().toISOString()} ${line}\n`);
      };
      await runDaemon(cron, {
        catchUp: flags.catchUp ?? cron.config.cron.catchUp,
        log: flags.logFile ?? null,
        report,
        signal: controller.signal,
      });
    })
    .addCommand(
      new Command("status")
        .description("Show whether the daemon runs, its pid and the next due job")
        .action(async (_flags: unknown, cmd: Command) => {
          const { out, cron } = await openCron(cmd);
          const { daemonStatus } = await import("../../src/cron/daemon.ts");
          const status = daemonStatus(cron.db);
          const jobs = cron.jobs.list();
          const enabled = jobs.filter((job) => job.enabled && job.nextRunAt !== null);
          const next = enabled.sort((a, b) => (a.nextRunAt ?? "").localeCompare(b.nextRunAt ?? ""))[0];
          const result = {
            ...status,
            jobs: jobs.length,
            activeJobs: jobs.filter((job) => job.enabled).length,
            nextRunAt: next?.nextRunAt ?? null,
            nextJob: next?.name ?? null,
          };
          // Like `systemctl status`: 3 when the daemon is not running, so scripts can test for it.
          if (!status.running) process.exitCode = 3;
          if (out.json) {
            out.printJson(result);
            return;
          }
          out.line(status.running ? `running (pid ${status.pid}, since ${status.startedAt})` : "not running");
          if (status.log) out.line(`log: ${status.log}`);
          out.line(`jobs: ${result.jobs} (${result.activeJobs} active)`);
          if (next) out.line(`next: ${next.name} at ${next.nextRunAt}`);
        }),
    )
    .addCommand(
      new Command("stop")
        .description("Stop the daemon (running jobs are killed and recorded as failed)")
        .action(async (_flags: unknown, cmd: Command) => {
          const { out, cron } = await openCron(cmd);
          const { stopDaemon } = await import("../../src/cron/daemon.ts");
          const status = await stopDaemon(cron);
          if (out.json) out.printJson({ stopped: true, pid: status.pid });
          else out.info(`cron daemon (pid ${status.pid}) stopped`);
        }),
    );
  return daemon;
}
