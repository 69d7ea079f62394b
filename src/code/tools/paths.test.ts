import { describe, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { expectA3sError } from "../../../tests/expect-error.ts";
import { confine, expandHome, pathSubject, realPathOf, workspacePath } from "./paths.ts";
import { tempDir, writeTree } from "./testing.ts";

const root = tempDir();
const workspace = join(root, "ws");
const outside = join(root, "outside");
const extra = join(root, "extra");
writeTree(root, { "ws/src/a.ts": "a", "outside/secret.txt": "s", "extra/notes.md": "n" });
symlinkSync(outside, join(workspace, "escape"));
symlinkSync(join(outside, "secret.txt"), join(workspace, "secret-link"));
symlinkSync(join(outside, "not-yet"), join(workspace, "dangling"));
symlinkSync(join(workspace, "src"), join(workspace, "src-link"));
symlinkSync(join(workspace, "loop-b"), join(workspace, "loop-a"));
symlinkSync(join(workspace, "loop-a"), join(workspace, "loop-b"));
const scope = { cwd: workspace, extraDirs: [] as string[] };

describe("confine", () => {
  test("relative and absolute paths inside the workspace resolve to absolute ones", () => {
    expect(confine("src/a.ts", scope)).toBe(join(workspace, "src/a.ts"));
    expect(confine(join(workspace, "src/new/file.ts"), scope)).toBe(join(workspace, "src/new/file.ts"));
    expect(confine(".", scope)).toBe(workspace);
    expect(confine("src-link/a.ts", scope)).toBe(join(workspace, "src-link/a.ts"));
  });

  test("paths outside are refused with the allowed roots named", () => {
    const error = expectA3sError(() => confine("../outside/secret.txt", scope), "permission");
    expect(error.message).toContain(`allowed: ${workspace}`);
    expect(error.hint).toContain("--add-dir");
    expectA3sError(() => confine("/etc/passwd", scope), "permission");
    expectA3sError(() => confine("~/.ssh/id_rsa", { ...scope, env: { HOME: root } }), "permission");
  });

  test("symlinks that lead out are refused, for existing and not-yet-existing targets", () => {
    const error = expectA3sError(
      () => confine("escape/secret.txt", scope),
      "permission",
      /through a symlink/,
    );
    expect(error.message).toContain(join(outside, "secret.txt"));
    expectA3sError(() => confine("secret-link", scope), "permission");
    expectA3sError(() => confine("escape/new-file.txt", scope), "permission");
    // Writing through a dangling link would create its target outside.
    expectA3sError(() => confine("dangling", scope), "permission");
    expectA3sError(() => confine("dangling/child", scope), "permission");
  });

  test("--add-dir directories are allowed, relative ones taken from the workspace", () => {
    expect(confine(join(extra, "notes.md"), { cwd: workspace, extraDirs: [extra] })).toBe(
      join(extra, "notes.md"),
    );
    expect(confine(join(extra, "notes.md"), { cwd: workspace, extraDirs: ["../extra"] })).toBe(
      join(extra, "notes.md"),
    );
    const error = expectA3sError(
      () => confine("/etc/hosts", { cwd: workspace, extraDirs: [extra] }),
      "permission",
    );
    expect(error.message).toContain(`allowed: ${workspace}, ${extra}`);
  });

  test("~ expands to the home directory, which may be an allowed root", () => {
    expect(expandHome("~/x", { HOME: "/home/u" })).toBe("/home/u/x");
    expect(expandHome("a~/x", { HOME: "/home/u" })).toBe("a~/x");
    expect(confine("~/src/a.ts", { ...scope, env: { HOME: workspace } })).toBe(join(workspace, "src/a.ts"));
  });

  test("a symlink loop and an empty path are errors, not hangs", () => {
    expectA3sError(() => confine("loop-a/x", scope), "runtime", /symbolic links/);
    expectA3sError(() => confine("  ", scope), "usage");
  });

  test("a workspace reached through a symlink still contains its own files", () => {
    const alias = join(root, "ws-alias");
    symlinkSync(workspace, alias);
    expect(confine("src/a.ts", { cwd: alias, extraDirs: [] })).toBe(join(alias, "src/a.ts"));
    expect(realPathOf(join(alias, "src", "missing", "deep"))).toBe(join(workspace, "src/missing/deep"));
  });
});

describe("workspacePath and pathSubject", () => {
  test("relative inside the workspace, absolute outside", () => {
    expect(workspacePath(join(workspace, "src/a.ts"), workspace)).toBe("src/a.ts");
    expect(workspacePath(workspace, workspace)).toBe(".");
    expect(workspacePath("/etc/passwd", workspace)).toBe("/etc/passwd");
    expect(pathSubject("./src/../src/a.ts", workspace)).toBe("src/a.ts");
    expect(pathSubject(undefined, workspace)).toBeUndefined();
  });
});
