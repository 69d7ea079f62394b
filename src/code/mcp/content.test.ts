import { expect, test } from "bun:test";
import { base64Bytes, MAX_RESULT_CHARS, toToolResult } from "./content.ts";

test("text blocks are joined by lines and summarised", () => {
  const result = toToolResult({
    content: [
      { type: "text", text: "one" },
      { type: "text", text: "two" },
    ],
  });
  expect(result).toEqual({ content: "one\ntwo", summary: "2 lines" });
  expect(toToolResult({ content: [{ type: "text", text: "short answer" }] }).summary).toBe("short answer");
});

test("isError passes through", () => {
  const result = toToolResult({ isError: true, content: [{ type: "text", text: "no such repo\ndetails" }] });
  expect(result).toEqual({ content: "no such repo\ndetails", isError: true, summary: "no such repo" });
});

test("structuredContent stands in when a tool sends no content blocks", () => {
  const result = toToolResult({ content: [], structuredContent: { temperature: 21 } });
  expect(JSON.parse(result.content)).toEqual({ temperature: 21 });
});

test("an empty result says so", () => {
  expect(toToolResult({ content: [] })).toEqual({ content: "", summary: "no output" });
});

test("huge results are cut with a note saying how much was left out", () => {
  const result = toToolResult({ content: [{ type: "text", text: "a".repeat(MAX_RESULT_CHARS + 500) }] });
  expect(result.content.length).toBeLessThan(MAX_RESULT_CHARS + 100);
  expect(result.content.endsWith("[output truncated: 500 more characters]")).toBe(true);
});

test("base64Bytes is the decoded length", () => {
  for (const size of [0, 1, 2, 3, 4, 5, 100]) {
    expect(base64Bytes(Buffer.alloc(size, 7).toString("base64"))).toBe(size);
  }
});
