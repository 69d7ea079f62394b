import { describe, expect, test } from "bun:test";
import { mayBeToolCall, parseToolCalls, type ToolDefinition } from "./messages.ts";

const tool = (name: string): ToolDefinition => ({
  type: "function",
  function: { name, description: `${name} tool`, parameters: { type: "object", properties: {} } },
});
const TOOLS = [tool("get_weather"), tool("search")];

const weather = { function: { name: "get_weather", arguments: { city: "Paris" } } };
const search = { function: { name: "search", arguments: { query: "bun", limit: 3 } } };

describe("parseToolCalls", () => {
  test("bare JSON object", () => {
    expect(parseToolCalls('{"name": "get_weather", "arguments": {"city": "Paris"}}', TOOLS)).toEqual({
      content: "",
      toolCalls: [weather],
    });
  });

  test("bare JSON with surrounding whitespace", () => {
    const text = '\n  {"name":"get_weather","arguments":{"city":"Paris"}}\n\n';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("a JSON list of calls keeps their order", () => {
    const text =
      '[{"name":"search","arguments":{"query":"bun","limit":3}},{"name":"get_weather","arguments":{"city":"Paris"}}]';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [search, weather] });
  });

  test("the OpenAI shape with a function wrapper", () => {
    const text = '{"type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("one <tool_call> block (Qwen, Hermes)", () => {
    const text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("several <tool_call> blocks become several calls", () => {
    const text = [
      "<tool_call>",
      '{"name": "search", "arguments": {"query": "bun", "limit": 3}}',
      "</tool_call>",
      "<tool_call>",
      '{"name": "get_weather", "arguments": {"city": "Paris"}}',
      "</tool_call>",
    ].join("\n");
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [search, weather] });
  });

  test("three <tool_call> blocks with no whitespace between them", () => {
    const one = '{"name":"get_weather","arguments":{"city":"Paris"}}';
    const text = `<tool_call>${one}</tool_call><tool_call>${one}</tool_call><tool_call>${one}</tool_call>`;
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather, weather, weather] });
  });

  test("[TOOL_CALLS] (Mistral)", () => {
    const text = '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("<|python_tag|> with <|eom_id|> (Llama 3.1)", () => {
    const text = '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("a ```json fence", () => {
    const text = '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("a bare ``` fence", () => {
    const text = '```\n[{"name": "search", "arguments": {"query": "bun", "limit": 3}}]\n```';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [search] });
  });

  test("a fence inside <tool_call>", () => {
    const text =
      '<tool_call>\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n</tool_call>';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("parameters stands in for arguments", () => {
    const text = '{"name": "search", "parameters": {"query": "bun", "limit": 3}}';
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [search] });
  });

  test("arguments given as a JSON string are decoded", () => {
    const text = JSON.stringify({ name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) });
    expect(parseToolCalls(text, TOOLS)).toEqual({ content: "", toolCalls: [weather] });
  });

  test("missing arguments become an empty object", () => {
    expect(parseToolCalls('{"name": "search"}', TOOLS)).toEqual({
      content: "",
      toolCalls: [{ function: { name: "search", arguments: {} } }],
    });
  });

  test("nested argument values are kept as they are", () => {
    const args = { filters: { tags: ["a", "b"], after: null }, deep: [{ x: 1 }], flag: false };
    const text = JSON.stringify({ name: "search", arguments: args });
    expect(parseToolCalls(text, TOOLS).toolCalls).toEqual([
      { function: { name: "search", arguments: args } },
    ]);
  });

  describe("anything that is not a call to one of the tools stays content", () => {
    const unchanged = (text: string) => {
      expect(parseToolCalls(text, TOOLS)).toEqual({ content: text, toolCalls: [] });
    };

    test("plain text", () => unchanged("The weather in Paris is sunny."));
    test("an empty response", () => unchanged(""));
    test("an unknown tool name", () => unchanged('{"name": "delete_everything", "arguments": {}}'));
    test("a list where one call names an unknown tool", () =>
      unchanged('[{"name":"search","arguments":{}},{"name":"rm","arguments":{}}]'));
    test("an unknown tool inside <tool_call>", () =>
      unchanged('<tool_call>{"name": "rm", "arguments": {}}</tool_call>'));
    test("invalid JSON inside <tool_call>", () => unchanged("<tool_call>{name: get_weather}</tool_call>"));
    test("truncated JSON", () => unchanged('{"name": "get_weather", "arguments": {"city": "Par'));
    test("a JSON object with no name", () => unchanged('{"arguments": {"city": "Paris"}}'));
    test("a name that is not a string", () => unchanged('{"name": 7, "arguments": {}}'));
    test("an empty list", () => unchanged("[]"));
    test("a list of numbers", () => unchanged("[1, 2, 3]"));
    test("a JSON string", () => unchanged('"get_weather"'));
    test("arguments as a JSON string that does not parse", () =>
      unchanged('{"name": "get_weather", "arguments": "city=Paris"}'));
    test("arguments that are a list", () => unchanged('{"name": "get_weather", "arguments": ["Paris"]}'));
    test("arguments that are a number", () => unchanged('{"name": "get_weather", "arguments": 3}'));
    test("arguments as a JSON string holding a list", () =>
      unchanged('{"name": "get_weather", "arguments": "[1]"}'));
    test("a code fence with other code", () => unchanged("```python\nprint('hello')\n```"));
    test("text before the call", () =>
      unchanged('Let me check. {"name": "get_weather", "arguments": {"city": "Paris"}}'));
    test("a tool name differing in case", () => unchanged('{"name": "Get_Weather", "arguments": {}}'));
  });

  test("with no tools, even a well-formed call stays content", () => {
    const text = '{"name": "get_weather", "arguments": {"city": "Paris"}}';
    expect(parseToolCalls(text, [])).toEqual({ content: text, toolCalls: [] });
  });

  test("unchanged content keeps its original whitespace", () => {
    const text = "  hello\n";
    expect(parseToolCalls(text, TOOLS).content).toBe(text);
  });
});

describe("mayBeToolCall", () => {
  test("nothing yet, or only whitespace, may still become a call", () => {
    expect(mayBeToolCall("")).toBe(true);
    expect(mayBeToolCall("  \n\t")).toBe(true);
  });

  test("the start of JSON may be a call", () => {
    expect(mayBeToolCall("{")).toBe(true);
    expect(mayBeToolCall('  {"na')).toBe(true);
    expect(mayBeToolCall("[")).toBe(true);
    expect(mayBeToolCall('[{"name"')).toBe(true);
  });

  test.each([
    "<",
    "<tool",
    "<tool_call",
    "<tool_call>",
    "[TOOL",
    "[TOOL_CALLS]",
    "<|",
    "<|python",
    "<|python_tag|>",
    "`",
    "``",
    "```",
    "```j",
    "```json",
  ])("the prefix %p may be a call", (text) => {
    expect(mayBeToolCall(text)).toBe(true);
  });

  test("text past a complete prefix may be a call", () => {
    expect(mayBeToolCall('<tool_call>\n{"name": "get_we')).toBe(true);
    expect(mayBeToolCall("<|python_tag|>{")).toBe(true);
    expect(mayBeToolCall("```json\n{")).toBe(true);
    expect(mayBeToolCall("\n<tool_call>")).toBe(true);
  });

  test.each([
    "Hello",
    "The answer is 4",
    "I",
    " Sure",
    "<b>bold</b>",
    "<|im_end|>",
    "<too_call>",
    "`x`",
    "#",
  ])("plain text %p cannot be a call", (text) => {
    expect(mayBeToolCall(text)).toBe(false);
  });
});
