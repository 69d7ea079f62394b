import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "jsonc-parser";
import { expectUsage } from "../../tests/expect-error.ts";
import { ConfigSchema } from "../core/config.ts";
import { addAllowRule, loadCodeSettings } from "./settings.ts";

const base = mkdtempSync(join(tmpdir(), "a3s-settings-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

let project: string;
let counter = 0;
beforeEach(() => {
  project = join(base, `p${counter++}`);
  mkdirSync(join(project, ".a3s"), { recursive: true });
});

const configPath = "/home/ann/.a3s/config.json";
const env = { HOME: "/home/ann", GH_TOKEN: "secret" };

function load(code: Record<string, unknown> = {}) {
  return loadCodeSettings({ projectRoot: project, config: ConfigSchema.parse({ code }), configPath, env });
}

function write(relative: string, text: string): string {
  const path = join(project, relative);
  writeFileSync(path, text);
  return path;
}

describe("loadCodeSettings", () => {
  test("no project files: the user's config alone", () => {
    const settings = load({ permissions: { allow: ["Bash(git:*)"], defaultMode: "plan" } });
    expect(settings.permissions.allow).toEqual([{ rule: "Bash(git:*)", source: configPath }]);
    expect(settings.permissions.defaultMode).toBe("plan");
    expect(settings.files).toEqual([]);
    expect(settings.projectRoot).toBe(project);
  });

  test("layers merge: rules add up (deduplicated) with their sources, the most specific mode wins", () => {
    const shared = write(
      ".a3s/settings.json",
      `// team settings
{
  "permissions": {
    "allow": ["Bash(npm test:*)", "Bash(git:*)"], // shared with git
    "deny": ["Read(./.env)"],
    "defaultMode": "acceptEdits",
    "additionalDirectories": ["../docs"],
  },
  "hooks": { "PostToolUse": [{ "matcher": "Edit|Write", "hooks": [{ "type": "command", "command": "fmt" }] }] },
  "env": { "IGNORED": "yes" },
  "model": "claude-whatever"
}`,
    );
    const local = write(
      ".a3s/settings.local.json",
      `{ "permissions": { "ask": ["Bash(git push:*)"], "defaultMode": "default", "additionalDirectories": ["~/notes"] },
         "hooks": { "PostToolUse": [{ "hooks": [{ "type": "command", "command": "log", "timeout": 5 }] }] } }`,
    );
    const settings = load({
      permissions: { allow: ["Bash(git:*)"], deny: ["Bash(rm:*)"] },
      hooks: { Stop: [{ hooks: [{ type: "command", command: "notify" }] }] },
    });
    expect(settings.files).toEqual([shared, local]);
    expect(settings.permissions.allow).toEqual([
      { rule: "Bash(git:*)", source: configPath },
      { rule: "Bash(npm test:*)", source: shared },
    ]);
    expect(settings.permissions.deny).toEqual([
      { rule: "Bash(rm:*)", source: configPath },
      { rule: "Read(./.env)", source: shared },
    ]);
    expect(settings.permissions.ask).toEqual([{ rule: "Bash(git push:*)", source: local }]);
    expect(settings.permissions.defaultMode).toBe("default");
    expect(settings.permissions.additionalDirectories).toEqual([join(base, "docs"), "/home/ann/notes"]);
    expect(settings.hooks.Stop?.map((group) => group.hooks[0]?.command)).toEqual(["notify"]);
    expect(settings.hooks.PostToolUse?.map((group) => group.hooks[0]?.command)).toEqual(["fmt", "log"]);
  });

  test("Claude Code's mode names are accepted", () => {
    write(".a3s/settings.json", `{ "permissions": { "defaultMode": "bypassPermissions" } }`);
    expect(load().permissions.defaultMode).toBe("yolo");
  });

  test("invalid values name the file and the key", () => {
    const shared = write(".a3s/settings.json", `{ "permissions": { "allow": "Bash" } }`);
    expectUsage(() => load(), `${shared}: permissions.allow:`);
    write(".a3s/settings.json", `{ "permissions": { "alow": [] } }`);
    expectUsage(() => load(), `${shared}: permissions.alow: unknown key`);
    write(
      ".a3s/settings.json",
      `{ "hooks": { "PreToolUse": [{ "hooks": [{ "type": "prompt", "command": "x" }] }] } }`,
    );
    expectUsage(() => load(), `${shared}: hooks.PreToolUse.0.hooks.0.type`);
    write(".a3s/settings.json", `{ "permissions": { "deny": ["Bash(npm:* x)"] } }`);
    expectUsage(() => load(), `${shared}: permissions.deny: invalid permission rule 'Bash(npm:* x)'`);
  });

  test("broken JSON names file, line and column", () => {
    const local = write(".a3s/settings.local.json", `{\n  "permissions": {\n    "allow": [,]\n  }\n}`);
    expectUsage(() => load(), `${local}:3:15: invalid JSON`);
    write(".a3s/settings.local.json", "[1, 2]");
    expectUsage(() => load(), "must be a JSON object");
  });

  test("a rule in the user's config is checked too", () => {
    expectUsage(() => load({ permissions: { allow: ["bash"] } }), `${configPath}: permissions.allow`);
  });
});

describe("addAllowRule", () => {
  test("creates the local settings file and keeps it out of git", () => {
    mkdirSync(join(project, ".git", "info"), { recursive: true });
    writeFileSync(
      join(project, ".git", "info", "exclude"),
      "# git ls-files --others --exclude-from=.git/info/exclude",
    );
    const path = addAllowRule(project, "Bash(npm test:*)");
    expect(path).toBe(join(project, ".a3s", "settings.local.json"));
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ permissions: { allow: ["Bash(npm test:*)"] } });
    expect(readFileSync(join(project, ".git", "info", "exclude"), "utf8")).toEndWith(
      "\n/.a3s/settings.local.json\n",
    );
    addAllowRule(project, "Bash(git:*)");
    expect(
      readFileSync(join(project, ".git", "info", "exclude"), "utf8").match(/settings\.local/g)?.length,
    ).toBe(1);
  });

  test("appends to an existing list keeping comments and layout, once", () => {
    const original = `// my local overrides
{
  "permissions": {
    // things I trust
    "allow": [
      "Bash(git:*)" // git is fine
    ],
    "deny": []
  },
  /* keep */ "env": { "A": "1" }
}
`;
    const path = write(".a3s/settings.local.json", original);
    addAllowRule(project, "Edit(src/**)");
    addAllowRule(project, " Edit(src/**) ");
    const text = readFileSync(path, "utf8");
    expect(text).toContain("// my local overrides");
    expect(text).toContain("// things I trust");
    expect(text).toContain("// git is fine");
    expect(text).toContain("/* keep */");
    expect(parse(text)).toEqual({
      permissions: { allow: ["Bash(git:*)", "Edit(src/**)"], deny: [] },
      env: { A: "1" },
    });
    expect(load().permissions.allow.map((entry) => entry.rule)).toEqual(["Bash(git:*)", "Edit(src/**)"]);
  });

  test("adds the list when the file has none", () => {
    const path = write(".a3s/settings.local.json", `{ "hooks": {} }\n`);
    addAllowRule(project, "WebFetch(domain:example.com)");
    expect(parse(readFileSync(path, "utf8"))).toEqual({
      hooks: {},
      permissions: { allow: ["WebFetch(domain:example.com)"] },
    });
  });

  test("refuses an invalid rule without touching the file", () => {
    expectUsage(() => addAllowRule(project, "Bash("), /unbalanced/);
    expect(() => readFileSync(join(project, ".a3s", "settings.local.json"))).toThrow();
  });
});
