/**
 * The per-invocation context a command action receives: global options resolved once,
 * the output channel and the home directory. Nothing here reads the environment at import time.
 */
import { writeSync } from "node:fs";
import type { Command } from "commander";
import { type Paths, pathsFor, resolveHome } from "../src/core/paths.ts";
import { Output, type Stream } from "./output.ts";

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
    stdout: blockingStream(1, process.stdout),
    stderr: blockingStream(2, process.stderr),
  });
  return { options, env, paths, out };
}

/**
 * Writes that are complete when write() returns. Bun's process.stdout on a pipe drops what the
 * reader has not taken yet when main() ends with process.exit() (`a3s cron ls --json | jq` with
 * 10,000 jobs got the first 128 KiB); Output's writes are small and ordered, so blocking is fine.
 */
export function blockingStream(fd: number, stream: NodeJS.WriteStream): Stream {
  return {
    isTTY: stream.isTTY,
    columns: stream.columns,
    write(chunk: string) {
      const buffer = Buffer.from(chunk);
      for (let offset = 0; offset < buffer.length; ) {
        try {
          offset += writeSync(fd, buffer, offset);
        } catch (err) {
          // The descriptor is non-blocking: a full pipe is EAGAIN until the reader catches up.
          if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
          Bun.sleepSync(1);
        }
      }
      return true;
    },
  };
}
