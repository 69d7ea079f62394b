import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError } from "commander";
import { A3sError } from "../src/core/errors.ts";
import { configureLog } from "../src/core/log.ts";
import { reportError } from "./errors.ts";

function capture(json: boolean) {
  const out = { text: "", write: (chunk: string) => (out.text += chunk) };
  const err = { text: "", write: (chunk: string) => (err.text += chunk) };
  return { target: { json, stdout: out, stderr: err }, out, err };
}

describe("reportError", () => {
  test("an A3sError: message and hint on stderr, its exit code", () => {
    const { target, out, err } = capture(false);
    const code = reportError(new A3sError("not_found", "No such image: x", { hint: "pull it" }), target);
    expect(code).toBe(3);
    expect(err.text).toBe("error: No such image: x\nhint: pull it\n");
    expect(out.text).toBe("");
  });

  test("--json: one error document on stdout, nothing on stderr", () => {
    const { target, out, err } = capture(true);
    const code = reportError(new A3sError("conflict", "name in use"), target);
    expect(code).toBe(4);
    expect(JSON.parse(out.text)).toEqual({ error: { code: "conflict", message: "name in use" } });
    expect(err.text).toBe("");
  });

  test("an unexpected error is internal (exit 1) and points at the log file", () => {
    const logFile = configureLog({ dir: mkdtempSync(join(tmpdir(), "a3s-log-")) });
    const { target, err } = capture(false);
    const code = reportError(new TypeError("cannot read properties of undefined"), target);
    expect(code).toBe(1);
    expect(err.text).toContain("error: cannot read properties of undefined");
    expect(err.text).toContain(`hint: this is a bug or an unexpected condition; details are in ${logFile}`);
    expect(readFileSync(logFile, "utf8")).toContain("TypeError");
  });

  test("commander's parse errors are usage errors with the suggestion as hint", () => {
    const { target, err } = capture(false);
    const code = reportError(
      new CommanderError(1, "commander.unknownCommand", "error: unknown command 'pul'\n(Did you mean pull?)"),
      target,
    );
    expect(code).toBe(2);
    expect(err.text).toBe("error: unknown command 'pul'\nhint: Did you mean pull?\n");
  });
});
