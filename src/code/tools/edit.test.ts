import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { editTool } from "./edit.ts";
import { readTool } from "./read.ts";
import { tempDir, toolContext, writeTree } from "./testing.ts";
import { writeTool } from "./write.ts";

const workspace = tempDir();
const outside = tempDir();
const ctx = toolContext(workspace);
const file = (path: string) => readFileSync(join(workspace, path), "utf8");
const edit = (input: { file_path: string; old_string: string; new_string: string; replace_all?: boolean }) =>
  editTool.run({ replace_all: false, ...input }, ctx);

describe("edit", () => {
  test("replaces a unique string and shows the result and a diff", async () => {
    writeTree(workspace, { "a.ts": "const a = 1;\nconst b = 2;\nconst c = 3;\n" });
    const result = await edit({ file_path: "a.ts", old_string: "const b = 2;", new_string: "const b = 20;" });
    expect(result.isError).toBeUndefined();
    expect(file("a.ts")).toBe("const a = 1;\nconst b = 20;\nconst c = 3;\n");
    expect(result.content).toContain("Edited a.ts: replaced 1 occurrence");
    expect(result.content).toContain("     2\tconst b = 20;");
    expect(result.summary).toBe("Edited a.ts (+1 -1)");
    expect(result.display).toEqual({
      kind: "diff",
      path: "a.ts",
      diff: "--- a/a.ts\n+++ b/a.ts\n@@ -1,3 +1,3 @@\n const a = 1;\n-const b = 2;\n+const b = 20;\n const c = 3;\n",
    });
  });

  test("several matches are refused with their count and lines, unless replace_all", async () => {
    writeTree(workspace, { "dup.ts": "x = 1\ny = 2\nx = 1\nx = 1\n" });
    const refused = await edit({ file_path: "dup.ts", old_string: "x = 1", new_string: "x = 9" });
    expect(refused.isError).toBe(true);
    expect(refused.content).toContain("old_string occurs 3 times in dup.ts (lines 1, 3, 4)");
    expect(file("dup.ts")).toBe("x = 1\ny = 2\nx = 1\nx = 1\n");
    const all = await edit({
      file_path: "dup.ts",
      old_string: "x = 1",
      new_string: "x = 9",
      replace_all: true,
    });
    expect(all.content).toContain("replaced 3 occurrences");
    expect(file("dup.ts")).toBe("x = 9\ny = 2\nx = 9\nx = 9\n");
  });

  test("no match names a whitespace-only difference and shows the lines", async () => {
    writeTree(workspace, { "ws.py": "def f():\n    if x:\n        return 1\n" });
    const result = await edit({
      file_path: "ws.py",
      old_string: "  if x:\n      return 1",
      new_string: "  if y:\n      return 2",
    });
    expect(result.isError).toBe(true);
    expect(result.content).toContain("old_string was not found in ws.py");
    expect(result.content).toContain("different whitespace or indentation at line 2");
    expect(result.content).toContain("     2\t    if x:\n     3\t        return 1");
  });

  test("no match shows the closest lines, or spots read's line numbers", async () => {
    writeTree(workspace, { "near.ts": "function total(items) {\n  return items.length;\n}\n" });
    const near = await edit({
      file_path: "near.ts",
      old_string: "function totals(items) {\n  return item.length;",
      new_string: "x",
    });
    expect(near.content).toContain(
      "The closest lines are:\n     1\tfunction total(items) {\n     2\t  return items.length;",
    );
    const numbered = await edit({
      file_path: "near.ts",
      old_string: "     2\t  return items.length;",
      new_string: "x",
    });
    expect(numbered.content).toContain("line-number prefixes from read");
    const nothing = await edit({ file_path: "near.ts", old_string: "zzzz qqqq", new_string: "x" });
    expect(nothing.content).toStartWith("old_string was not found in near.ts.\n(");
  });

  test("CRLF files keep CRLF, a BOM stays, LF old_string matches", async () => {
    writeFileSync(join(workspace, "win.txt"), "\uFEFFone\r\ntwo\r\nthree\r\n");
    const result = await edit({
      file_path: "win.txt",
      old_string: "one\ntwo",
      new_string: "one\nTWO\nextra",
    });
    expect(result.isError).toBeUndefined();
    expect(file("win.txt")).toBe("\uFEFFone\r\nTWO\r\nextra\r\nthree\r\n");
  });

  test("the file mode is kept", async () => {
    writeTree(workspace, { "run.sh": "echo hi\n" });
    chmodSync(join(workspace, "run.sh"), 0o755);
    await edit({ file_path: "run.sh", old_string: "hi", new_string: "hello" });
    expect(statSync(join(workspace, "run.sh")).mode & 0o777).toBe(0o755);
    expect(file("run.sh")).toBe("echo hello\n");
  });

  test("identical strings, missing files and binaries are errors; empty old_string creates", async () => {
    writeTree(workspace, { "same.txt": "a\n" });
    expect((await edit({ file_path: "same.txt", old_string: "a", new_string: "a" })).content).toContain(
      "are the same",
    );
    expect((await edit({ file_path: "nope.txt", old_string: "a", new_string: "b" })).content).toContain(
      "nope.txt does not exist",
    );
    const created = await edit({ file_path: "new/dir/file.txt", old_string: "", new_string: "hello\n" });
    expect(created.content).toBe("Created new/dir/file.txt");
    expect(file("new/dir/file.txt")).toBe("hello\n");
    expect((await edit({ file_path: "same.txt", old_string: "", new_string: "b" })).content).toContain(
      "already has content",
    );
    writeFileSync(join(workspace, "bin.dat"), Buffer.from([0, 1, 2]));
    expect((await edit({ file_path: "bin.dat", old_string: "a", new_string: "b" })).content).toContain(
      "binary file",
    );
  });

  test("a file changed since it was read must be read again", async () => {
    writeTree(workspace, { "fresh.ts": "let v = 1;\n" });
    await readTool.run({ file_path: "fresh.ts" }, ctx);
    writeFileSync(join(workspace, "fresh.ts"), "let v = 2;\n");
    utimesSync(join(workspace, "fresh.ts"), new Date(), new Date(Date.now() + 5_000));
    const stale = await edit({ file_path: "fresh.ts", old_string: "let v = 2;", new_string: "let v = 3;" });
    expect(stale.isError).toBe(true);
    expect(stale.content).toContain("fresh.ts was modified since you last read it");
    await readTool.run({ file_path: "fresh.ts" }, ctx);
    const ok = await edit({ file_path: "fresh.ts", old_string: "let v = 2;", new_string: "let v = 3;" });
    expect(ok.isError).toBeUndefined();
    // Its own edit does not make the file stale.
    const again = await edit({ file_path: "fresh.ts", old_string: "let v = 3;", new_string: "let v = 4;" });
    expect(again.isError).toBeUndefined();
  });

  test("symlinks out of the workspace are refused; a link inside stays a link", async () => {
    writeFileSync(join(outside, "target.txt"), "secret\n");
    symlinkSync(join(outside, "target.txt"), join(workspace, "out-link"));
    const refused = await edit({ file_path: "out-link", old_string: "secret", new_string: "pwned" });
    expect(refused.content).toContain("outside the workspace");
    expect(readFileSync(join(outside, "target.txt"), "utf8")).toBe("secret\n");
    writeTree(workspace, { "real.txt": "v1\n" });
    symlinkSync(join(workspace, "real.txt"), join(workspace, "alias.txt"));
    await edit({ file_path: "alias.txt", old_string: "v1", new_string: "v2" });
    expect(file("real.txt")).toBe("v2\n");
  });
});

describe("write", () => {
  test("creates a file with its directories and shows an all-added diff", async () => {
    const result = await writeTool.run({ file_path: "deep/new/file.txt", content: "a\nb\n" }, ctx);
    expect(result.content).toBe("Created deep/new/file.txt (2 lines)");
    expect(file("deep/new/file.txt")).toBe("a\nb\n");
    expect(result.display).toEqual({
      kind: "diff",
      path: "deep/new/file.txt",
      diff: "--- /dev/null\n+++ b/deep/new/file.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n",
    });
  });

  test("replaces a file, keeps its mode and diffs against the old content", async () => {
    writeTree(workspace, { "tool.sh": "echo 1\necho 2\n" });
    chmodSync(join(workspace, "tool.sh"), 0o700);
    const result = await writeTool.run({ file_path: "tool.sh", content: "echo 1\necho two\n" }, ctx);
    expect(result.content).toBe("Wrote tool.sh (2 lines; +1 -1)");
    expect(statSync(join(workspace, "tool.sh")).mode & 0o777).toBe(0o700);
    expect(result.display?.kind === "diff" && result.display.diff).toContain("-echo 2\n+echo two");
  });

  test("refuses directories, binaries and paths outside", async () => {
    expect((await writeTool.run({ file_path: "deep", content: "x" }, ctx)).content).toContain(
      "is a directory",
    );
    writeFileSync(join(workspace, "img.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect((await writeTool.run({ file_path: "img.png", content: "x" }, ctx)).content).toContain("PNG image");
    const outsideWrite = await writeTool.run({ file_path: join(outside, "x.txt"), content: "x" }, ctx);
    expect(outsideWrite.isError).toBe(true);
    expect(writeTool.ruleName).toBe("Write");
  });
});
