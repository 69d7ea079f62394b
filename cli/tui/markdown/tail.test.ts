import { expect, test } from "bun:test";
import { liveTail } from "./tail.ts";

test("short answers are shown whole", () => {
  expect(liveTail("a\nb\nc", 10, 80)).toEqual({ text: "a\nb\nc", hidden: 0 });
});

test("long answers keep their last lines, counting wrapped rows", () => {
  const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n");
  expect(liveTail(text, 5, 80)).toEqual({ text: "line 45\nline 46\nline 47\nline 48\nline 49", hidden: 45 });
  const wide = `${"x".repeat(200)}\nshort`;
  // 200 characters at 80 columns (76 usable) take 3 rows: with 3 rows only "short" fits.
  expect(liveTail(wide, 3, 80)).toEqual({ text: "short", hidden: 1 });
});

test("a cut inside a code fence reopens it; a closed fence is not reopened", () => {
  const open = ["intro", "```ts", "const a = 1;", "const b = 2;", "const c = 3;"].join("\n");
  expect(liveTail(open, 2, 80)).toEqual({ text: "```ts\nconst b = 2;\nconst c = 3;", hidden: 3 });
  const closed = ["```", "code", "```", "after 1", "after 2"].join("\n");
  expect(liveTail(closed, 2, 80)).toEqual({ text: "after 1\nafter 2", hidden: 3 });
});
