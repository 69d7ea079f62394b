import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import { commandMatches, parseRule, patternMatches, ruleCoversTool } from "./rules.ts";

const roots = { projectRoot: "/work/proj", homeDir: "/home/ann" };

describe("parseRule", () => {
  test("bare rules, patterns and kinds", () => {
    expect(parseRule("Bash")).toEqual({ raw: "Bash", tool: "Bash", kind: "bash" });
    expect(parseRule(" Bash(npm run test:*) ")).toEqual({
      raw: "Bash(npm run test:*)",
      tool: "Bash",
      pattern: "npm run test:*",
      kind: "bash",
    });
    expect(parseRule("Bash(*)")).toEqual({ raw: "Bash(*)", tool: "Bash", kind: "bash" });
    expect(parseRule("Read(src/**)").kind).toBe("path");
    expect(parseRule("Write(/x)").kind).toBe("path");
    expect(parseRule("WebFetch(domain:example.com)").kind).toBe("domain");
    expect(parseRule("mcp__github").kind).toBe("mcp");
    expect(parseRule("mcp__github__*").kind).toBe("mcp");
    expect(parseRule("Skill(pdf)").kind).toBe("other");
    expect(parseRule("Bash(echo (x))").pattern).toBe("echo (x)");
  });

  const invalid: Array<[string, RegExp]> = [
    ["", /tool name/],
    ["Bash(", /unbalanced/],
    ["Bash()", /empty pattern/],
    ["Bash(npm:* test)", /':\*' may only end/],
    ["WebFetch(example.com)", /domain:<host>/],
    ["WebFetch(domain:exa mple.com)", /domain:<host>/],
    ["mcp__github__x(y)", /take no pattern/],
    ["mcp__", /expected mcp__server/],
    ["bash(ls)", /did you mean Bash/],
    ["Ba*sh", /only allowed in MCP/],
    ["1Bash", /tool name/],
  ];
  for (const [rule, message] of invalid) {
    test(`invalid: ${JSON.stringify(rule)}`, () => {
      const error = expectUsage(() => parseRule(rule), message);
      expect(error.message).toContain(`'${rule}'`);
    });
  }
});

describe("commandMatches", () => {
  const cases: Array<[string, string, boolean]> = [
    ["npm run test:*", "npm run test", true],
    ["npm run test:*", "npm run test --watch", true],
    ["npm run test:*", "npm  run   test -u", true],
    ["npm run test:*", "npm run testx", false],
    ["npm run test:*", "npm run build", false],
    ["git:*", "git push --force", true],
    ["git:*", "gitk", false],
    ["npm run build", "npm run build", true],
    ["npm run build", "npm run build --prod", false],
    ["git * main", "git push origin main", true],
    ["git * main", "git push origin dev", false],
    ["ls *", "ls", true],
    ["ls *", "ls -la", true],
    ["ls *", "lsof", false],
    ["* --version", "node --version", true],
  ];
  for (const [pattern, command, expected] of cases) {
    test(`${pattern} ~ ${command} → ${expected}`, () => {
      expect(commandMatches(pattern, command)).toBe(expected);
    });
  }
});

describe("path patterns", () => {
  const cases: Array<[string, string, boolean]> = [
    ["src/**", "/work/proj/src/a.ts", true],
    ["src/**", "/work/proj/src/deep/er/a.ts", true],
    ["src/**", "/work/proj/lib/src/a.ts", false],
    ["src/*.ts", "/work/proj/src/a.ts", true],
    ["src/*.ts", "/work/proj/src/x/a.ts", false],
    ["src/**/*.ts", "/work/proj/src/a.ts", true],
    ["src/**/*.ts", "/work/proj/src/x/y/a.ts", true],
    ["src/**/*.ts", "/work/proj/src/x/a.js", false],
    ["src", "/work/proj/src/x/a.ts", true],
    ["*.env", "/work/proj/.env", true],
    [".env", "/work/proj/.env", true],
    [".env", "/work/proj/sub/.env", true],
    ["*.env", "/work/proj/sub/prod.env", true],
    ["./.env", "/work/proj/sub/.env", false],
    ["./.env", "/work/proj/.env", true],
    ["/docs/**", "/work/proj/docs/a.md", true],
    ["/docs/**", "/docs/a.md", false],
    ["//etc/**", "/etc/passwd", true],
    ["//etc/**", "/work/proj/etc/x", false],
    ["~/.ssh/**", "/home/ann/.ssh/id_rsa", true],
    ["~/.ssh/**", "/work/proj/.ssh/id_rsa", false],
    ["src/a?.ts", "/work/proj/src/ab.ts", true],
    ["src/[ab].ts", "/work/proj/src/b.ts", true],
    ["src/[!ab].ts", "/work/proj/src/b.ts", false],
    ["../other/**", "/work/other/x", true],
    ["**", "/work/proj/any/thing", true],
    ["**", "/elsewhere", false],
    ["a.b", "/work/proj/axb", false],
  ];
  for (const [pattern, path, expected] of cases) {
    test(`${pattern} ~ ${path} → ${expected}`, () => {
      const rule = parseRule(`Read(${pattern})`);
      expect(patternMatches(rule, path, "/", roots)).toBe(expected);
    });
  }

  test("a relative subject resolves against the tool's cwd", () => {
    const rule = parseRule("Edit(src/**)");
    expect(patternMatches(rule, "src/a.ts", "/work/proj", roots)).toBe(true);
    expect(patternMatches(rule, "a.ts", "/work/proj/src", roots)).toBe(true);
    expect(patternMatches(rule, "../src/a.ts", "/work/proj/lib", roots)).toBe(true);
    expect(patternMatches(rule, undefined, "/work/proj", roots)).toBe(false);
  });
});

describe("domains, MCP and other tools", () => {
  test("WebFetch domains", () => {
    const exact = parseRule("WebFetch(domain:example.com)");
    expect(patternMatches(exact, "domain:example.com", "/", roots)).toBe(true);
    expect(patternMatches(exact, "domain:EXAMPLE.com", "/", roots)).toBe(true);
    expect(patternMatches(exact, "domain:api.example.com", "/", roots)).toBe(false);
    expect(patternMatches(exact, "domain:example.com.evil.io", "/", roots)).toBe(false);
    const wildcard = parseRule("WebFetch(domain:*.example.com)");
    expect(patternMatches(wildcard, "domain:api.example.com", "/", roots)).toBe(true);
    expect(patternMatches(wildcard, "domain:badexample.com", "/", roots)).toBe(false);
  });

  test("MCP rules cover a server, its wildcard, or one tool", () => {
    const server = parseRule("mcp__github");
    expect(ruleCoversTool(server, "mcp__github__search")).toBe(true);
    expect(ruleCoversTool(server, "mcp__github")).toBe(true);
    expect(ruleCoversTool(server, "mcp__githubx__search")).toBe(false);
    expect(ruleCoversTool(parseRule("mcp__github__*"), "mcp__github__create_issue")).toBe(true);
    expect(ruleCoversTool(parseRule("mcp__github__*"), "mcp__gitlab__x")).toBe(false);
    expect(ruleCoversTool(parseRule("mcp__github__search"), "mcp__github__search")).toBe(true);
    expect(ruleCoversTool(parseRule("mcp__github__search"), "mcp__github__searchx")).toBe(false);
    expect(ruleCoversTool(parseRule("mcp__github__search"), "mcp__github__search__x")).toBe(false);
    expect(ruleCoversTool(server, "Bash")).toBe(false);
  });

  test("Edit rules cover every editing tool, Read rules every reading tool", () => {
    for (const name of ["Edit", "Write", "MultiEdit", "Patch", "NotebookEdit"]) {
      expect(ruleCoversTool(parseRule("Edit(src/**)"), name)).toBe(true);
    }
    for (const name of ["Read", "Grep", "Glob", "LS"])
      expect(ruleCoversTool(parseRule("Read"), name)).toBe(true);
    expect(ruleCoversTool(parseRule("Read"), "Edit")).toBe(false);
    expect(ruleCoversTool(parseRule("Write"), "Edit")).toBe(false);
    expect(ruleCoversTool(parseRule("Edit"), "Bash")).toBe(false);
  });

  test("other tools match their subject exactly or by wildcard", () => {
    expect(patternMatches(parseRule("Skill(pdf)"), "pdf", "/", roots)).toBe(true);
    expect(patternMatches(parseRule("Skill(pdf)"), "pdfx", "/", roots)).toBe(false);
    expect(patternMatches(parseRule("Skill(pdf-*)"), "pdf-forms", "/", roots)).toBe(true);
    expect(patternMatches(parseRule("Skill(pdf:*)"), "pdf", "/", roots)).toBe(true);
  });
});
