/**
 * The per-invocation context a command action receives: global options resolved once,
 * the output channel and the home directory. Nothing here reads the environment at import time.
 */
import type { Command } from "commander";
import { type Paths, pathsFor, resolveHome } from "../src/core/paths.ts";
import { Output } from "./output.ts";

export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  verbose: boolean;
  home?: string;
}

export interface CliContext {
  options: GlobalOptions;
  env: NodeJS.ProcessEnv;
  paths: Paths;
  out: Output;
}

export function globalOptionsOf(command: Command): GlobalOptions {
  const raw = command.optsWithGlobals() as Partial<GlobalOptions>;
  return {
    json: raw.json === true,
    quiet: raw.quiet === true,
    color: raw.color !== false,
    verbose: raw.verbose === true,
    ...(raw.home === undefined ? {} : { home: raw.home }),
  };
}

/** Colour only where a person is looking, and never when NO_COLOR asks otherwise (no-color.org). */
export function wantsColor(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv,
  stream: { isTTY?: boolean },
): boolean {
  if (!options.color) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

export function createContext(command: Command, env: NodeJS.ProcessEnv = process.env): CliContext {
  const options = globalOptionsOf(command);
  const paths = pathsFor(resolveHome(env, options.home));
  const out = new Output({
    json: options.json,
    quiet: options.quiet,
    verbose: options.verbose,
    color: wantsColor(options, env, process.stderr),
    stdout: process.stdout,
    stderr: process.stderr,
  });
  return { options, env, paths, out };
}
