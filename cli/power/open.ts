import type { Command } from "commander";
import { openPowerContext, type PowerContext } from "../../src/power/context.ts";
import { type CliContext, createContext } from "../context.ts";

/** The CLI context plus the power subsystem's store, for power commands. */
export function openPower(command: Command): CliContext & { power: PowerContext } {
  const ctx = createContext(command);
  return { ...ctx, power: openPowerContext(ctx.paths, ctx.env) };
}
