import type { Command } from "commander";
import type { BoxContext } from "../../src/box/context.ts";
import { type CliContext, createContext } from "../context.ts";

/** The CLI context plus the box subsystem's stores, for box commands. */
export async function openBox(command: Command): Promise<CliContext & { box: BoxContext }> {
  // Imported here rather than at the top: the stores bring the database and the config schema,
  // which `--version`, `--help` and the other groups should not load.
  const { openBoxContext } = await import("../../src/box/context.ts");
  const ctx = createContext(command);
  return { ...ctx, box: openBoxContext(ctx.paths, ctx.env) };
}
