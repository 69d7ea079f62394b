/**
 * The one place where an error becomes what the user sees: `error: …` and `hint: …` on stderr,
 * or {"error":{code,message,hint}} on stdout under --json, and the process exit status.
 */
import { CommanderError } from "commander";
import { A3sError, EXIT_CODES } from "../src/core/errors.ts";
import { currentLogFile, logger } from "../src/core/log.ts";
import type { Stream } from "./output.ts";

const log = logger("cli");

/** Commander reports its own parse errors; give them our code and pull "Did you mean" into a hint. */
export function fromCommanderError(err: CommanderError): A3sError {
  const [first = "", ...rest] = err.message.replace(/^error:\s*/, "").split("\n");
  const suggestion = rest
    .join(" ")
    .trim()
    .replace(/^\((.*)\)$/, "$1");
  return new A3sError("usage", first, {
    hint: suggestion !== "" ? suggestion : "see 'a3s --help'",
  });
}

export function toA3sError(err: unknown): A3sError {
  if (err instanceof A3sError) return err;
  if (err instanceof CommanderError) return fromCommanderError(err);
  if (err instanceof Error && err.name === "AbortError") {
    return new A3sError("interrupted", "interrupted", { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new A3sError("internal", message || "unexpected error", { cause: err });
}

export interface ReportTarget {
  json: boolean;
  stdout: Stream;
  stderr: Stream;
}

/** Prints the error and returns the exit status the process should end with. */
export function reportError(err: unknown, target: ReportTarget): number {
  const error = toA3sError(err);
  const logFile = currentLogFile();
  if (error.code === "internal") {
    const cause = error.cause instanceof Error ? error.cause : error;
    log.error(error.message, { stack: cause.stack });
  } else {
    log.info(`exit ${error.exitCode}: ${error.message}`, { code: error.code });
  }
  const hint =
    error.code === "internal" && error.hint === undefined && logFile !== undefined
      ? `this is a bug or an unexpected condition; details are in ${logFile}`
      : error.hint;
  if (target.json) {
    const body =
      hint === undefined
        ? { code: error.code, message: error.message }
        : { code: error.code, message: error.message, hint };
    target.stdout.write(`${JSON.stringify({ error: body })}\n`);
  } else {
    target.stderr.write(`error: ${error.message}\n`);
    if (hint !== undefined) target.stderr.write(`hint: ${hint}\n`);
  }
  return error.exitCode;
}

export { EXIT_CODES };
