import { describe, expect, test } from "bun:test";
import { A3sError, EXIT_CODES, fromSystemError } from "./errors.ts";

describe("A3sError", () => {
  test("takes its exit code from the table", () => {
    expect(new A3sError("usage", "bad").exitCode).toBe(2);
    expect(new A3sError("not_found", "x").exitCode).toBe(3);
    expect(new A3sError("interrupted", "x").exitCode).toBe(130);
  });

  test("an explicit exit code wins (docker run's 125/126/127)", () => {
    expect(new A3sError("runtime", "no such command", { exitCode: 127 }).exitCode).toBe(127);
  });

  test("serialises code, message and hint only", () => {
    expect(JSON.parse(JSON.stringify(new A3sError("conflict", "taken", { hint: "pick another" })))).toEqual({
      code: "conflict",
      message: "taken",
      hint: "pick another",
    });
    expect(new A3sError("usage", "x").toJSON()).toEqual({ code: "usage", message: "x" });
  });

  test("exit codes are distinct and match DESIGN.md", () => {
    const values = Object.values(EXIT_CODES);
    expect(new Set(values).size).toBe(values.length);
    expect(EXIT_CODES).toMatchObject({
      usage: 2,
      not_found: 3,
      conflict: 4,
      network: 5,
      integrity: 6,
      permission: 7,
      runtime: 8,
      interrupted: 130,
    });
  });

  test("system errors map by errno", () => {
    const sys = (code: string) => Object.assign(new Error(code), { code });
    expect(fromSystemError(sys("ENOENT"), "open x").code).toBe("not_found");
    expect(fromSystemError(sys("EACCES"), "open x").code).toBe("permission");
    expect(fromSystemError(sys("EEXIST"), "mkdir x").code).toBe("conflict");
    expect(fromSystemError(sys("EIO"), "read x").code).toBe("internal");
  });
});
