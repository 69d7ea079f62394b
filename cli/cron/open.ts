import type { Command } from "commander";
import type { CronContext } from "../../src/cron/context.ts";
import { type CliContext, createContext } from "../context.ts";

/** The CLI context plus the cron subsystem's stores, for cron commands. */
export async function openCron(command: Command): Promise<CliContext & { cron: CronContext }> {
  // Imported here rather than at the top: the stores bring the database and the config schema,
  // which `--version`, `--help` and the other groups should not load.
  const { openCronContext } = await import("../../src/cron/context.ts");
  const ctx = createContext(command);
  return { ...ctx, cron: openCronContext(ctx.paths, ctx.env) };
}
