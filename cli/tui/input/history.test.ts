import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { History, HistoryCursor } from "./history.ts";

describe("History", () => {
  test("persists multi-line entries as JSON lines and reloads them, skipping a torn line", () => {
    const file = join(mkdtempSync(join(tmpdir(), "tui-history-")), "nested", "history.jsonl");
    const history = new History(file);
    history.add("first");
    history.add("two\nlines");
    history.add("two\nlines");
    history.add("   ");
    writeFileSync(file, `${readFileSync(file, "utf8")}"torn`);
    expect(new History(file).all).toEqual(["first", "two\nlines"]);
  });

  test("the cursor walks back, then forward to the draft", () => {
    const history = new History();
    history.add("a");
    history.add("b");
    const cursor = new HistoryCursor(history);
    expect(cursor.older("draft")).toBe("b");
    expect(cursor.older("b")).toBe("a");
    expect(cursor.older("a")).toBeUndefined();
    expect(cursor.newer()).toBe("b");
    expect(cursor.newer()).toBe("draft");
    expect(cursor.newer()).toBeUndefined();
  });
});
