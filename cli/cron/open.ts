import type { Command } from "commander";
import { type CronContext, openCronContext } from "../../src/cron/context.ts";
import { type CliContext, createContext } from "../context.ts";

/** The CLI context plus the cron subsystem's stores, for cron commands. */
export function openCron(command: Command): CliContext & { cron: CronContext } {
  const ctx = createContext(command);
  return { ...ctx, cron: openCronContext(ctx.paths, ctx.env) };
}
