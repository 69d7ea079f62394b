import type { Command } from "commander";
import type { PowerContext } from "../../src/power/context.ts";
import { type CliContext, createContext } from "../context.ts";

/** The CLI context plus the power subsystem's store, for power commands. */
export async function openPower(command: Command): Promise<CliContext & { power: PowerContext }> {
  // Imported here rather than at the top: the store brings the database and the config schema,
  // which `--version`, `--help` and the other groups should not load.
  const { openPowerContext } = await import("../../src/power/context.ts");
  const ctx = createContext(command);
  return { ...ctx, power: openPowerContext(ctx.paths, ctx.env) };
}
