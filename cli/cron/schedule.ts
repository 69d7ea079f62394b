/** Schedule commands: parse (try a schedule) and next (a job's coming runs). */
import { Command } from "commander";
import { A3sError } from "../../src/core/errors.ts";
import { createContext } from "../context.ts";
import type { Output } from "../output.ts";
import { openCron } from "./open.ts";

function count(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new A3sError("usage", `invalid count '${text}': 1 to 1000`);
  return n;
}

async function printTimes(out: Output, times: number[], zone: string): Promise<void> {
  const { formatInZone, weekdayInZone } = await import("../../src/cron/schedule.ts");
  for (const time of times) out.line(`  ${formatInZone(time, zone)}  ${weekdayInZone(time, zone)}`);
}

export function parseCommand(): Command {
  return new Command("parse")
    .description("Translate a schedule into cron syntax, describe it and show the next runs")
    .argument("<text>", 'e.g. "every weekday at 9am", "每天下午2点半", "*/15 * * * *"')
    .option("--tz <zone>", "time zone for the next runs (default: cron.timezone or local)")
    .option("-n, --count <n>", "how many next runs to show", "5")
    .action(async (text: string, flags: { tz?: string; count: string }, cmd: Command) => {
      const { out, paths, env } = createContext(cmd);
      const [{ loadConfig }, { describeExpression }, { parseSchedule }, { nextRuns, resolveTimeZone }] =
        await Promise.all([
          import("../../src/core/config.ts"),
          import("../../src/cron/parse/describe.ts"),
          import("../../src/cron/parse/natural.ts"),
          import("../../src/cron/schedule.ts"),
        ]);
      const parsed = parseSchedule(text);
      const zone = resolveTimeZone(flags.tz, loadConfig(paths.config, env).config.cron.timezone);
      const next = nextRuns(parsed.expression, zone, Date.now(), count(flags.count));
      const description = describeExpression(parsed.expression);
      if (out.json) {
        out.printJson({
          input: parsed.text,
          expression: parsed.expression,
          source: parsed.source,
          description,
          timezone: zone,
          next: next.map((t) => new Date(t).toISOString()),
        });
        return;
      }
      out.line(`expression:  ${parsed.expression}`);
      out.line(`description: ${description}`);
      out.line(`time zone:   ${zone}`);
      out.line("next runs:");
      await printTimes(out, next, zone);
    });
}

export function nextCommand(): Command {
  return new Command("next")
    .description("Show a job's next run times")
    .argument("<job>", "job name, ID or ID prefix")
    .option("-n, --count <n>", "how many", "5")
    .action(async (ref: string, flags: { count: string }, cmd: Command) => {
      const { out, cron } = await openCron(cmd);
      const { upcoming } = await import("../../src/cron/jobs.ts");
      const job = cron.jobs.resolve(ref);
      const next = upcoming(job, count(flags.count));
      if (out.json) {
        out.printJson({
          id: job.id,
          name: job.name,
          expression: job.expression,
          timezone: job.timezone,
          enabled: job.enabled,
          next: next.map((t) => new Date(t).toISOString()),
        });
        return;
      }
      if (!job.enabled)
        out.info(`${job.name} is paused; these are the times it would run after 'a3s cron resume'`);
      await printTimes(out, next, job.timezone);
    });
}
