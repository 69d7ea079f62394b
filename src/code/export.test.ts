import { expect, test } from "bun:test";
import { sessionMarkdown } from "./export.ts";
import type { SessionRecord } from "./sessions.ts";

const session: SessionRecord = {
  id: "0b6f",
  title: "fix tests",
  cwd: "/w",
  model: "anthropic/claude-sonnet-4-5",
  parentId: null,
  createdAt: "2026-11-21T10:00:00.000Z",
  updatedAt: "2026-11-21T10:05:00.000Z",
  messages: 3,
  costUsd: 0.0123,
  usage: { inputTokens: 1200, outputTokens: 80, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.0123 },
};

test("markdown export shows prompts, answers, tool calls and results with safe fences", () => {
  const markdown = sessionMarkdown({
    session,
    entries: [
      {
        seq: 1,
        kind: "message",
        createdAt: "",
        message: { role: "user", content: [{ type: "text", text: "fix tests" }] },
      },
      {
        seq: 2,
        kind: "message",
        createdAt: "",
        message: {
          role: "assistant",
          content: [
            { type: "text", text: "Reading." },
            { type: "tool_use", id: "t1", name: "read", input: { path: "a.ts" } },
          ],
        },
      },
      {
        seq: 3,
        kind: "message",
        createdAt: "",
        message: {
          role: "user",
          content: [{ type: "tool_result", toolUseId: "t1", content: "has ``` inside", isError: true }],
        },
      },
      { seq: 4, kind: "summary", createdAt: "", text: "we read a.ts" },
    ],
  });
  expect(markdown).toContain("# fix tests");
  expect(markdown).toContain("## User\n\nfix tests");
  expect(markdown).toContain("**Tool call** `read` (t1)");
  expect(markdown).toContain('"path": "a.ts"');
  expect(markdown).toContain("**Result** (error) of t1\n\n````\nhas ``` inside\n````");
  expect(markdown).toContain("## Summary (earlier messages compacted)\n\nwe read a.ts");
  expect(markdown.split("## User")).toHaveLength(2);
});
