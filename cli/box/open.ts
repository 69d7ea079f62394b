import type { Command } from "commander";
import { type BoxContext, openBoxContext } from "../../src/box/context.ts";
import { type CliContext, createContext } from "../context.ts";

/** The CLI context plus the box subsystem's stores, for box commands. */
export function openBox(command: Command): CliContext & { box: BoxContext } {
  const ctx = createContext(command);
  return { ...ctx, box: openBoxContext(ctx.paths, ctx.env) };
}
