import { describe, expect, test } from "bun:test";
import { diffLines, diffStat, splitLinesKeep, unifiedDiff } from "./diff.ts";

/** Rebuilds both sides from a script: the diff must describe exactly the two inputs. */
function sides(ops: ReturnType<typeof diffLines>) {
  return {
    a: ops.filter((op) => op.kind !== "insert").map((op) => op.line),
    b: ops.filter((op) => op.kind !== "delete").map((op) => op.line),
  };
}

describe("diffLines", () => {
  test("finds a minimal script (the classic ABCABBA / CBABAC example has 5 edits)", () => {
    const a = [..."ABCABBA"];
    const b = [..."CBABAC"];
    const ops = diffLines(a, b);
    expect(sides(ops)).toEqual({ a, b });
    expect(ops.filter((op) => op.kind !== "equal")).toHaveLength(5);
  });

  test("random inputs round-trip", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: Math.floor(rand() * 30) }, () => String(Math.floor(rand() * 5)));
      const b = Array.from({ length: Math.floor(rand() * 30) }, () => String(Math.floor(rand() * 5)));
      expect(sides(diffLines(a, b))).toEqual({ a, b });
    }
  });

  test("splitLinesKeep keeps terminators and marks a missing final newline", () => {
    expect(splitLinesKeep("a\nb\n")).toEqual(["a\n", "b\n"]);
    expect(splitLinesKeep("a\nb")).toEqual(["a\n", "b"]);
    expect(splitLinesKeep("")).toEqual([]);
  });
});

describe("unifiedDiff", () => {
  test("one change in the middle of a long file gets three lines of context", () => {
    const old = `${Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n")}\n`;
    const changed = old.replace("line 10\n", "line ten\n");
    expect(unifiedDiff(old, changed, { oldPath: "f.txt", newPath: "f.txt" })).toBe(
      [
        "--- a/f.txt",
        "+++ b/f.txt",
        "@@ -7,7 +7,7 @@",
        " line 7",
        " line 8",
        " line 9",
        "-line 10",
        "+line ten",
        " line 11",
        " line 12",
        " line 13",
        "",
      ].join("\n"),
    );
  });

  test("distant changes make separate hunks; close ones share one", () => {
    const old = `${Array.from({ length: 40 }, (_, i) => `${i + 1}`).join("\n")}\n`;
    const far = old.replace("\n5\n", "\nfive\n").replace("\n30\n", "\nthirty\n");
    expect(unifiedDiff(old, far, { oldPath: "n", newPath: "n" }).match(/^@@/gm)).toHaveLength(2);
    const near = old.replace("\n5\n", "\nfive\n").replace("\n10\n", "\nten\n");
    expect(unifiedDiff(old, near, { oldPath: "n", newPath: "n" }).match(/^@@/gm)).toHaveLength(1);
  });

  test("new and deleted files use /dev/null and zero ranges", () => {
    expect(unifiedDiff("", "a\nb\n", { oldPath: null, newPath: "new.txt" })).toBe(
      "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n",
    );
    expect(unifiedDiff("a\n", "", { oldPath: "old.txt", newPath: null })).toBe(
      "--- a/old.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-a\n",
    );
  });

  test("a missing final newline is marked", () => {
    expect(unifiedDiff("a\n", "a", { oldPath: "f", newPath: "f" })).toBe(
      "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-a\n+a\n\\ No newline at end of file\n",
    );
  });

  test("equal texts give no diff; diffStat counts lines", () => {
    expect(unifiedDiff("same\n", "same\n", { oldPath: "f", newPath: "f" })).toBe("");
    expect(diffStat("a\nb\nc\n", "a\nB\nc\nd\n")).toEqual({ added: 2, removed: 1 });
  });
});
