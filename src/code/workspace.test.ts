import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findProjectRoot, memoryFiles, systemPrompt, workspaceContext } from "./workspace.ts";

const base = realpathSync(mkdtempSync(join(tmpdir(), "a3s-workspace-")));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Ann",
  GIT_AUTHOR_EMAIL: "ann@example.com",
  GIT_COMMITTER_NAME: "Ann",
  GIT_COMMITTER_EMAIL: "ann@example.com",
};

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", args, { cwd, env: gitEnv, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

function put(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

const a3sHome = join(base, "a3s-home");

describe("a git repository", () => {
  const repo = join(base, "repo");
  mkdirSync(join(repo, "pkg", "web"), { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  for (let i = 1; i <= 7; i++) {
    put(join(repo, `f${i}.txt`), `${i}\n`);
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", `commit number ${i}`);
  }
  put(join(repo, "f1.txt"), "changed\n");
  put(join(repo, "untracked.md"), "new\n");
  put(join(repo, "AGENTS.md"), "Use pnpm. Run `pnpm test` before finishing.\n");
  symlinkSync("AGENTS.md", join(repo, "CLAUDE.md"));
  put(join(repo, "pkg", "CLAUDE.md"), "The pkg folder holds packages.\n");
  put(join(repo, "pkg", "web", "AGENTS.md"), `Web package. ${"x".repeat(25_000)}`);
  put(join(a3sHome, "AGENTS.md"), "Answer in British English.\n");
  const cwd = join(repo, "pkg", "web");

  test("the project root is the nearest ancestor with .git", () => {
    expect(findProjectRoot(cwd)).toBe(repo);
    expect(findProjectRoot(repo)).toBe(repo);
  });

  test("instruction files from A3S_HOME and from the root down to cwd, deduplicated and capped", () => {
    const files = memoryFiles(repo, cwd, { home: a3sHome });
    expect(files.map((file) => file.path)).toEqual([
      join(a3sHome, "AGENTS.md"),
      join(repo, "AGENTS.md"),
      join(repo, "pkg", "CLAUDE.md"),
      join(repo, "pkg", "web", "AGENTS.md"),
    ]);
    const big = files[3];
    expect(big?.truncated).toBe(true);
    expect(big?.content).toContain("[… 5013 more characters: read the file for the rest]");
    expect(big?.content.length).toBeLessThan(20_100);
  });

  test("the context names the root, cwd, branch, status, commits and instructions", () => {
    const context = workspaceContext(cwd, process.env, { home: a3sHome });
    expect(context.projectRoot).toBe(repo);
    expect(context.isGitRepo).toBe(true);
    expect(context.branch).toBe("main");
    const text = context.text;
    expect(text).toContain(`Working directory: ${cwd}`);
    expect(text).toContain(`Project root: ${repo}`);
    expect(text).toContain("Is a git repository: yes");
    expect(text).toContain(`Platform: ${process.platform}`);
    expect(text).toContain(`Today's date: ${new Date().toISOString().slice(0, 10)}`);
    expect(text).toContain("Current branch: main");
    expect(text).toContain(" M f1.txt");
    expect(text).toContain("?? untracked.md");
    for (let i = 3; i <= 7; i++) expect(text).toContain(`commit number ${i}`);
    expect(text).not.toContain("commit number 2");
    expect(text).toContain(`Contents of ${join(repo, "AGENTS.md")}:\n\nUse pnpm.`);
    expect(text).toContain("Answer in British English.");
    expect(text.indexOf("British English")).toBeLessThan(text.indexOf("Use pnpm"));
  });

  test("a long status is capped", () => {
    for (let i = 0; i < 60; i++) put(join(repo, "many", `u${i}.txt`), "x");
    git(repo, "add", "many");
    const total = git(repo, "status", "--short").split("\n").length;
    const text = workspaceContext(repo, process.env, { home: a3sHome }).text;
    const shown = text.slice(text.indexOf("Status:\n") + 8, text.indexOf("\n…")).split("\n");
    expect(shown).toHaveLength(40);
    expect(text).toContain(`\n… ${total - 40} more\n`);
  });

  test("a detached HEAD is named by its commit", () => {
    const detached = join(base, "detached");
    git(base, "clone", "-q", repo, detached);
    git(detached, "checkout", "-q", "--detach", "HEAD~1");
    const context = workspaceContext(detached, process.env, { home: a3sHome });
    expect(context.branch).toBeUndefined();
    expect(context.text).toMatch(/Current branch: detached at [0-9a-f]{7,}/);
  });
});

describe("outside git", () => {
  test("a plain directory is its own root; a repo without commits says so", () => {
    const plain = join(base, "plain", "sub");
    mkdirSync(plain, { recursive: true });
    const context = workspaceContext(plain, process.env, { home: join(base, "no-home") });
    expect(context.projectRoot).toBe(plain);
    expect(context.isGitRepo).toBe(false);
    expect(context.text).toContain("Is a git repository: no");
    expect(context.text).not.toContain("Recent commits");
    expect(context.text).not.toContain("Contents of");

    const fresh = join(base, "fresh");
    mkdirSync(fresh);
    git(fresh, "init", "-q", "-b", "trunk");
    const empty = workspaceContext(fresh, process.env, { home: join(base, "no-home") });
    expect(empty.branch).toBe("trunk");
    expect(empty.text).toContain("Status:\n(clean)");
    expect(empty.text).toContain("Recent commits:\n(none)");
  });
});

describe("systemPrompt", () => {
  test("assembles role, environment, skills and hook context in order", () => {
    const prompt = systemPrompt({
      workspace: "<env>\nWorking directory: /p\n</env>",
      skills: "# Skills\n- pdf: PDFs",
      extraContext: ["Ticket A3S-42", "  ", "Be brief."],
    });
    expect(prompt).toStartWith("You are a3s code");
    const order = [
      "# How to work",
      "# Environment\n<env>",
      "# Skills",
      "# Additional context\nTicket A3S-42\n\nBe brief.",
    ];
    const positions = order.map((part) => prompt.indexOf(part));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(prompt).not.toContain("# Plan mode");
  });

  test("plan mode is announced; a subagent's role replaces the default one; empty parts are left out", () => {
    const prompt = systemPrompt({
      workspace: "<env/>",
      mode: "plan",
      role: "You are a strict reviewer.",
      skills: "",
    });
    expect(prompt).toStartWith("You are a strict reviewer.\n\n# Plan mode");
    expect(prompt).not.toContain("a3s code");
    expect(prompt).not.toContain("# Skills");
    expect(prompt).not.toContain("# Additional context");
  });
});
