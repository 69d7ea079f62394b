import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unifiedDiff } from "./diff.ts";
import { applyHunks, patchTool } from "./patch.ts";
import { parsePatch } from "./patch-parse.ts";
import { tempDir, toolContext, writeTree } from "./testing.ts";

const workspace = tempDir();
const ctx = toolContext(workspace);
const file = (path: string) => readFileSync(join(workspace, path), "utf8");
const apply = (patch: string) => patchTool.run({ patch }, ctx);
const numbers = (count: number) => `${Array.from({ length: count }, (_, i) => `line ${i + 1}`).join("\n")}\n`;

describe("patch", () => {
  test("applies what git diff printed: modified, added and deleted files", async () => {
    const repo = tempDir();
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" });
    git("init", "-q");
    writeTree(repo, { "src/main.ts": numbers(30), "old.txt": "bye\n", "keep.md": "# title\n" });
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
    writeTree(repo, {
      "src/main.ts": numbers(30).replace("line 3\n", "line three\n").replace("line 25\n", "line 25\nextra\n"),
      "src/new.ts": "export const x = 1;\n",
    });
    git("rm", "-q", "old.txt");
    git("add", "-A");
    const patch = git("diff", "--cached");
    writeTree(workspace, { "src/main.ts": numbers(30), "old.txt": "bye\n", "keep.md": "# title\n" });
    const result = await apply(patch);
    expect(result.isError).toBeUndefined();
    expect(file("src/main.ts")).toBe(readFileSync(join(repo, "src/main.ts"), "utf8"));
    expect(file("src/new.ts")).toBe("export const x = 1;\n");
    expect(existsSync(join(workspace, "old.txt"))).toBe(false);
    expect(result.content).toBe(
      // In the patch's order (git sorts by path).
      "Applied the patch:\nD old.txt (+0 -1)\nM src/main.ts (+2 -1)\nA src/new.ts (+1 -0)",
    );
    expect(result.summary).toBe("Patched 3 files");
    expect(result.display?.kind === "diff" && result.display.diff).toContain("+++ b/src/new.ts");
  });

  test("hunks whose line numbers are off are found nearby", async () => {
    writeTree(workspace, { "fuzz.txt": numbers(40) });
    const result = await apply(
      [
        "--- a/fuzz.txt",
        "+++ b/fuzz.txt",
        "@@ -14,3 +14,3 @@",
        " line 8",
        "-line 9",
        "+line nine",
        " line 10",
        "@@ -36,3 +36,3 @@",
        " line 30",
        "-line 31",
        "+line thirty-one",
        " line 32",
      ].join("\n"),
    );
    expect(result.isError).toBeUndefined();
    expect(file("fuzz.txt")).toBe(
      numbers(40).replace("line 9\n", "line nine\n").replace("line 31\n", "line thirty-one\n"),
    );
  });

  test("all or nothing: a failing hunk in the second file leaves the first untouched, and is named", async () => {
    writeTree(workspace, { "one.txt": "a\nb\nc\n", "two.txt": "x\ny\nz\n" });
    const result = await apply(
      [
        "--- a/one.txt",
        "+++ b/one.txt",
        "@@ -1,3 +1,3 @@",
        " a",
        "-b",
        "+B",
        " c",
        "--- a/two.txt",
        "+++ b/two.txt",
        "@@ -1,2 +1,2 @@",
        "-x",
        "+X",
        " y",
        "@@ -3,1 +3,1 @@",
        "-zz",
        "+Z",
      ].join("\n"),
    );
    expect(result.isError).toBe(true);
    expect(result.content).toContain(
      'hunk 2 of two.txt (@@ -3,1 +3,1 @@) does not apply: at line 3 the file has "z" where the hunk expects "zz"',
    );
    expect(result.content).toContain("nothing was written");
    expect(file("one.txt")).toBe("a\nb\nc\n");
    expect(file("two.txt")).toBe("x\ny\nz\n");
  });

  test("content is never fuzzed: whitespace differences are reported, not applied", async () => {
    writeTree(workspace, { "ws.py": "def f():\n    return 1\n" });
    const result = await apply(
      "--- a/ws.py\n+++ b/ws.py\n@@ -1,2 +1,2 @@\n def f():\n-  return 1\n+  return 2\n",
    );
    expect(result.content).toContain("the lines exist at line 1 with different whitespace");
    expect(file("ws.py")).toBe("def f():\n    return 1\n");
  });

  test("creates, deletes and renames; refuses to create over an existing file", async () => {
    writeTree(workspace, { "gone.txt": "1\n2\n", "from.txt": "keep\nme\n" });
    const result = await apply(
      [
        "--- /dev/null",
        "+++ b/made/here.txt",
        "@@ -0,0 +1,2 @@",
        "+hello",
        "+world",
        "--- a/gone.txt",
        "+++ /dev/null",
        "@@ -1,2 +0,0 @@",
        "-1",
        "-2",
        "--- a/from.txt",
        "+++ b/to.txt",
        "@@ -1,2 +1,2 @@",
        " keep",
        "-me",
        "+you",
      ].join("\n"),
    );
    expect(result.isError).toBeUndefined();
    expect(file("made/here.txt")).toBe("hello\nworld\n");
    expect(existsSync(join(workspace, "gone.txt"))).toBe(false);
    expect(existsSync(join(workspace, "from.txt"))).toBe(false);
    expect(file("to.txt")).toBe("keep\nyou\n");
    const again = await apply("--- /dev/null\n+++ b/to.txt\n@@ -0,0 +1 @@\n+x\n");
    expect(again.content).toContain("to.txt already exists");
  });

  test("CRLF files stay CRLF; missing final newlines follow the markers", async () => {
    writeFileSync(join(workspace, "win.txt"), "a\r\nb\r\nc\r\n");
    await apply("--- a/win.txt\n+++ b/win.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    expect(file("win.txt")).toBe("a\r\nB\r\nc\r\n");
    writeFileSync(join(workspace, "eof.txt"), "x\ny");
    await apply(
      "--- a/eof.txt\n+++ b/eof.txt\n@@ -1,2 +1,3 @@\n x\n-y\n\\ No newline at end of file\n+y\n+z\n",
    );
    expect(file("eof.txt")).toBe("x\ny\nz\n");
    await apply(
      "--- a/eof.txt\n+++ b/eof.txt\n@@ -2,2 +2,2 @@\n y\n-z\n+end\n\\ No newline at end of file\n",
    );
    expect(file("eof.txt")).toBe("x\ny\nend");
  });

  test("model-written diffs: wrong counts, bare @@, blank context without its space", async () => {
    writeTree(workspace, {
      "loose.ts": "function a() {\n\n  return 1;\n}\n\nfunction b() {\n  return 2;\n}\n",
    });
    const result = await apply(
      [
        "Here is the change:",
        "--- loose.ts",
        "+++ loose.ts",
        "@@ -1,99 +1,99 @@",
        " function a() {",
        "",
        "-  return 1;",
        "+  return 10;",
        "@@",
        " function b() {",
        "-  return 2;",
        "+  return 20;",
        "",
        "",
      ].join("\n"),
    );
    expect(result.isError).toBeUndefined();
    expect(file("loose.ts")).toBe("function a() {\n\n  return 10;\n}\n\nfunction b() {\n  return 20;\n}\n");
  });

  test("paths outside the workspace and malformed patches are refused", async () => {
    const outside = await apply("--- a/../escape.txt\n+++ b/../escape.txt\n@@ -0,0 +1 @@\n+x\n");
    expect(outside.content).toContain("outside the workspace");
    expect((await apply("just some text")).content).toContain("no file headers found");
    expect((await apply("--- a/x\n+++ b/x\n@@ -one +two @@\n+x\n")).content).toContain(
      "malformed hunk header",
    );
    expect((await apply("@@ -1 +1 @@\n-a\n+b\n")).content).toContain("before any ---/+++ file header");
  });

  test("the permission subject lists every path the patch touches", () => {
    const patch =
      "--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-a\n+b\n--- a/x.ts\n+++ b/y.ts\n@@ -1 +1 @@\n-a\n+b\n";
    expect(patchTool.ruleSubject({ patch }, ctx)).toBe("src/a.ts\nx.ts\ny.ts");
    expect(patchTool.ruleName).toBe("Edit");
  });
});

describe("applyHunks", () => {
  test("a diff made by unifiedDiff applies back to the new text, for many random edits", () => {
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    for (let round = 0; round < 150; round++) {
      const old = Array.from({ length: rand(40) }, () => `v${rand(8)}`);
      const next = [...old];
      for (let edits = rand(5); edits > 0; edits--) {
        const at = rand(next.length + 1);
        if (rand(2) === 0) next.splice(at, 1);
        else next.splice(at, 0, `new${rand(100)}`);
      }
      const oldText = old.length ? `${old.join("\n")}\n` : "";
      const newText = next.length ? `${next.join("\n")}\n` : "";
      const diff = unifiedDiff(oldText, newText, { oldPath: "f", newPath: "f" });
      if (diff === "") continue;
      const [patch] = parsePatch(diff);
      expect(applyHunks(oldText, patch!.hunks, "f")).toBe(newText);
    }
  });
});
