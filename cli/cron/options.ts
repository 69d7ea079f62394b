/** Option parsing shared by `cron add` and `cron edit`: validated values, usage errors naming the flag. */
import { A3sError } from "../../src/core/errors.ts";
import { parseDuration } from "../../src/cron/duration.ts";
import type { JobOptions } from "../../src/cron/jobs.ts";
import type { CatchUp, Overlap } from "../../src/cron/store.ts";

export interface JobFlags {
  name?: string;
  tz?: string;
  timeout?: string;
  retries?: string;
  overlap?: string;
  catchUp?: string;
  workdir?: string;
  box?: string;
  agent?: string;
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new A3sError("usage", `invalid ${flag} '${value}'`, { hint: `one of: ${allowed.join(", ")}` });
  }
  return value as T;
}

export async function jobOptions(flags: JobFlags): Promise<JobOptions> {
  // The store module brings node:crypto, which only commands that add or edit a job should load.
  const { CATCH_UPS, OVERLAPS } = await import("../../src/cron/store.ts");
  const options: JobOptions = {};
  if (flags.name !== undefined) options.name = flags.name;
  if (flags.tz !== undefined) options.tz = flags.tz;
  if (flags.timeout !== undefined) options.timeoutMs = parseDuration(flags.timeout, "--timeout");
  if (flags.retries !== undefined) {
    const retries = Number(flags.retries);
    if (!/^\d+$/.test(flags.retries)) throw new A3sError("usage", `invalid --retries '${flags.retries}'`);
    options.retries = retries;
  }
  if (flags.overlap !== undefined) options.overlap = oneOf<Overlap>(flags.overlap, OVERLAPS, "--overlap");
  if (flags.catchUp !== undefined) options.catchUp = oneOf<CatchUp>(flags.catchUp, CATCH_UPS, "--catch-up");
  if (flags.workdir !== undefined) options.workdir = flags.workdir;
  if (flags.box !== undefined) options.box = flags.box;
  if (flags.agent !== undefined) options.agent = flags.agent;
  return options;
}

/** -e KEY=VALUE, repeatable; a bare KEY takes its value from this environment, as docker run -e does. */
export function parseEnv(entries: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const key = eq === -1 ? entry : entry.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new A3sError("usage", `invalid environment variable '${entry}'`);
    const value = eq === -1 ? env[key] : entry.slice(eq + 1);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/**
 * The words after `--` as one shell command: a single word is shell text as written
 * ("tar czf x.tgz dir && ls"); several are an argv, quoted so each stays one argument.
 */
export function shellCommand(words: readonly string[]): string {
  if (words.length === 1) return words[0] as string;
  return words.map(shellQuote).join(" ");
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
