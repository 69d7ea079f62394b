import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sError } from "../../tests/expect-error.ts";
import { projectConfiguration, TrustStore } from "./trust.ts";

const temp = mkdtempSync(join(tmpdir(), "a3s-trust-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

test("a project with no configuration of its own has nothing to trust", () => {
  const root = mkdtempSync(join(temp, "plain-"));
  writeFileSync(join(root, "AGENTS.md"), "be nice\n");
  expect(projectConfiguration(root)).toEqual([]);
});

test("what each project file would do is spelled out", () => {
  const root = mkdtempSync(join(temp, "configured-"));
  mkdirSync(join(root, ".a3s"));
  writeFileSync(join(root, ".mcp.json"), JSON.stringify({ mcpServers: { github: {}, db: {} } }));
  writeFileSync(
    join(root, ".a3s", "settings.json"),
    `// shared\n{ "hooks": { "PreToolUse": [] }, "permissions": { "allow": ["Bash"], "defaultMode": "yolo" } }`,
  );
  writeFileSync(join(root, ".a3s", "settings.local.json"), "{ broken");
  expect(projectConfiguration(root)).toEqual([
    { path: join(root, ".mcp.json"), holds: ["MCP servers: github, db"] },
    {
      path: join(root, ".a3s", "settings.json"),
      holds: ["hooks: PreToolUse", "allow rules: Bash", "permission mode: yolo"],
    },
    { path: join(root, ".a3s", "settings.local.json"), holds: ["invalid JSON"] },
  ]);
});

test("project skills that grant tools are listed; skills that grant nothing are not", () => {
  const root = mkdtempSync(join(temp, "skills-"));
  for (const [dir, header] of [
    [
      join(root, ".claude", "skills", "deploy"),
      "name: deploy\ndescription: Deploy\nallowed-tools: Bash, Edit",
    ],
    [join(root, ".a3s", "skills", "notes"), "name: notes\ndescription: Notes"],
  ] as const) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "SKILL.md"), `---\n${header}\n---\nDo it.\n`);
  }
  expect(projectConfiguration(root)).toEqual([
    {
      path: join(root, ".claude", "skills", "deploy", "SKILL.md"),
      holds: ["skill deploy allows: Bash, Edit"],
    },
  ]);
});

test("trusting a folder covers the folders under it, not the ones beside or above it", () => {
  const store = new TrustStore(join(temp, "home", "trusted-projects.json"));
  const project = join(temp, "work", "project");
  expect(store.isTrusted(project)).toBe(false);
  store.trust(project, new Date("2026-11-21T00:00:00Z"));
  expect(store.isTrusted(project)).toBe(true);
  expect(store.isTrusted(join(project, "packages", "app"))).toBe(true);
  expect(store.isTrusted(join(temp, "work"))).toBe(false);
  expect(store.isTrusted(join(temp, "work", "project-2"))).toBe(false);
  expect(statSync(store.file).mode & 0o777).toBe(0o600);
  writeFileSync(store.file, "[]");
  expectA3sError(() => store.isTrusted(project), "usage", "not a trust list");
});
