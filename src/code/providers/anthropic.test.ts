import { describe, expect, test } from "bun:test";
import type { A3sError } from "../../core/errors.ts";
import type { Message, ProviderEvent } from "../types.ts";
import { parseAnthropicStream, toAnthropicMessages, toAnthropicRequest } from "./anthropic.ts";
import { parseSse } from "./sse.ts";
import { StreamError } from "./transport.ts";

async function parse(text: string): Promise<ProviderEvent[]> {
  async function* body() {
    yield text;
  }
  const events: ProviderEvent[] = [];
  for await (const event of parseAnthropicStream(parseSse(body()))) events.push(event);
  return events;
}

async function parseError(text: string): Promise<unknown> {
  try {
    await parse(text);
  } catch (err) {
    return err;
  }
  throw new Error("expected the stream to fail");
}

const ev = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const conversation: Message[] = [
  { role: "user", content: [{ type: "text", text: "Fix the test" }] },
  {
    role: "assistant",
    content: [
      { type: "text", text: "Reading both." },
      { type: "tool_use", id: "toolu_1", name: "read", input: { path: "a.ts" } },
      { type: "tool_use", id: "toolu_2", name: "bash", input: { command: "npm test" } },
    ],
  },
  {
    role: "user",
    content: [
      { type: "text", text: "(also check b.ts)" },
      { type: "tool_result", toolUseId: "toolu_1", content: "1\tconst a = 1;" },
      { type: "tool_result", toolUseId: "toolu_2", content: "exit 1", isError: true },
    ],
  },
];

describe("toAnthropicRequest", () => {
  test("system at top level, tools as input_schema, stream on, cache breakpoints on tools, system and last block", () => {
    const body = toAnthropicRequest({
      model: "claude-sonnet-4-5",
      system: "Be brief.",
      messages: conversation,
      tools: [
        { name: "read", description: "Read", inputSchema: { type: "object" } },
        { name: "bash", description: "Run", inputSchema: { type: "object", required: ["command"] } },
      ],
      maxTokens: 1000,
      temperature: 0.2,
    });
    expect(body).toMatchObject({
      model: "claude-sonnet-4-5",
      max_tokens: 1000,
      stream: true,
      temperature: 0.2,
    });
    expect(body.system).toEqual([{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }]);
    expect(body.tools).toEqual([
      { name: "read", description: "Read", input_schema: { type: "object" } },
      {
        name: "bash",
        description: "Run",
        input_schema: { type: "object", required: ["command"] },
        cache_control: { type: "ephemeral" },
      },
    ]);
  });

  test("no system, no tools: neither field is sent; max_tokens has a default", () => {
    const body = toAnthropicRequest({
      model: "m",
      system: "",
      messages: conversation.slice(0, 1),
      tools: [],
    });
    expect("system" in body).toBe(false);
    expect("tools" in body).toBe(false);
    expect(body.max_tokens).toBe(8192);
  });
});

describe("toAnthropicMessages", () => {
  test("tool_use and tool_result blocks in Anthropic's shape, results ahead of text", () => {
    const wire = toAnthropicMessages(conversation);
    expect(wire[1]).toEqual({
      role: "assistant",
      content: [
        { type: "text", text: "Reading both." },
        { type: "tool_use", id: "toolu_1", name: "read", input: { path: "a.ts" } },
        { type: "tool_use", id: "toolu_2", name: "bash", input: { command: "npm test" } },
      ],
    });
    expect(wire[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "1\tconst a = 1;" },
        { type: "tool_result", tool_use_id: "toolu_2", content: "exit 1", is_error: true },
        { type: "text", text: "(also check b.ts)", cache_control: { type: "ephemeral" } },
      ],
    });
  });

  test("empty text blocks and messages left empty by them are dropped", () => {
    const wire = toAnthropicMessages([
      { role: "user", content: [{ type: "text", text: "hi" }] },
      { role: "assistant", content: [{ type: "text", text: "" }] },
      {
        role: "user",
        content: [
          { type: "text", text: "  " },
          { type: "text", text: "again" },
        ],
      },
    ]);
    expect(wire.map((m) => [m.role, m.content.map((b) => b.text)])).toEqual([
      ["user", ["hi"]],
      ["user", ["again"]],
    ]);
  });

  test("an assistant turn parsed from the stream maps back to the blocks the API sent", async () => {
    const events = await parse(
      ev("message_start", {
        type: "message_start",
        message: { usage: { input_tokens: 5, output_tokens: 1 } },
      }) +
        ev("content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "text", text: "" },
        }) +
        ev("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: "On it." },
        }) +
        ev("content_block_stop", { type: "content_block_stop", index: 0 }) +
        ev("content_block_start", {
          type: "content_block_start",
          index: 1,
          content_block: { type: "tool_use", id: "toolu_9", name: "read", input: {} },
        }) +
        ev("content_block_delta", {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '{"path":' },
        }) +
        ev("content_block_delta", {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: ' "a.ts"}' },
        }) +
        ev("content_block_stop", { type: "content_block_stop", index: 1 }) +
        ev("message_delta", {
          type: "message_delta",
          delta: { stop_reason: "tool_use" },
          usage: { output_tokens: 9 },
        }) +
        ev("message_stop", { type: "message_stop" }),
    );
    const message: Message = { role: "assistant", content: [] };
    for (const e of events) {
      if (e.type === "text_delta") message.content.push({ type: "text", text: e.text });
      if (e.type === "tool_call")
        message.content.push({ type: "tool_use", id: e.id, name: e.name, input: e.input });
    }
    expect(toAnthropicMessages([message])[0]!.content.map(({ cache_control: _, ...block }) => block)).toEqual(
      [
        { type: "text", text: "On it." },
        { type: "tool_use", id: "toolu_9", name: "read", input: { path: "a.ts" } },
      ],
    );
  });
});

describe("parseAnthropicStream", () => {
  test("usage from message_start and the cumulative message_delta, incl. cache reads and writes", async () => {
    const events = await parse(
      ev("message_start", {
        type: "message_start",
        message: {
          id: "msg_1",
          usage: {
            input_tokens: 12,
            cache_creation_input_tokens: 2048,
            cache_read_input_tokens: 4096,
            output_tokens: 1,
          },
        },
      }) +
        ev("ping", { type: "ping" }) +
        ev("content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "text", text: "" },
        }) +
        ev("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: "Hi" },
        }) +
        ev("content_block_stop", { type: "content_block_stop", index: 0 }) +
        ev("message_delta", {
          type: "message_delta",
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: { output_tokens: 15, cache_read_input_tokens: 4096 },
        }) +
        ev("message_stop", { type: "message_stop" }),
    );
    expect(events).toEqual([
      { type: "text_delta", text: "Hi" },
      {
        type: "usage",
        usage: { inputTokens: 12, outputTokens: 15, cacheReadTokens: 4096, cacheWriteTokens: 2048 },
      },
      { type: "stop", reason: "end_turn" },
    ]);
  });

  test("thinking blocks become reasoning; signatures, unknown events and block types are skipped", async () => {
    const events = await parse(
      ev("message_start", {
        type: "message_start",
        message: { usage: { input_tokens: 1, output_tokens: 1 } },
      }) +
        ev("content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "thinking", thinking: "" },
        }) +
        ev("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "thinking_delta", thinking: "Let me think." },
        }) +
        ev("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "signature_delta", signature: "x" },
        }) +
        ev("content_block_stop", { type: "content_block_stop", index: 0 }) +
        ev("content_block_start", {
          type: "content_block_start",
          index: 1,
          content_block: { type: "redacted_thinking", data: "…" },
        }) +
        ev("content_block_stop", { type: "content_block_stop", index: 1 }) +
        ev("some_future_event", { type: "some_future_event" }) +
        ev("message_delta", {
          type: "message_delta",
          delta: { stop_reason: "pause_turn" },
          usage: { output_tokens: 3 },
        }) +
        ev("message_stop", { type: "message_stop" }),
    );
    expect(events.filter((e) => e.type !== "usage")).toEqual([
      { type: "reasoning_delta", text: "Let me think." },
      { type: "stop", reason: "end_turn" },
    ]);
  });

  test("a tool call with no input deltas gets the start block's input", async () => {
    const events = await parse(
      ev("message_start", { type: "message_start", message: { usage: {} } }) +
        ev("content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "tool_use", id: "toolu_x", name: "ls", input: {} },
        }) +
        ev("content_block_stop", { type: "content_block_stop", index: 0 }) +
        ev("message_delta", {
          type: "message_delta",
          delta: { stop_reason: "tool_use" },
          usage: { output_tokens: 3 },
        }) +
        ev("message_stop", { type: "message_stop" }),
    );
    expect(events.filter((e) => e.type === "tool_call")).toEqual([
      { type: "tool_call", id: "toolu_x", name: "ls", input: {} },
    ]);
  });

  test("error events map to the error's kind; only transient kinds are retryable", async () => {
    const start = ev("message_start", { type: "message_start", message: { usage: {} } });
    const overloaded = await parseError(
      `${start}${ev("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } })}`,
    );
    expect(overloaded).toBeInstanceOf(StreamError);
    expect((overloaded as StreamError).retryable).toBe(true);
    expect((overloaded as StreamError).message).toContain("overloaded_error mid-stream: Overloaded");
    const invalid = await parseError(
      `${start}${ev("error", { type: "error", error: { type: "invalid_request_error", message: "bad" } })}`,
    );
    expect((invalid as A3sError).code).toBe("usage");
    expect((invalid as StreamError).retryable).toBe(false);
  });

  test("a stream that ends before message_stop is a retryable network error", async () => {
    const err = await parseError(ev("message_start", { type: "message_start", message: { usage: {} } }));
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe("network");
    expect((err as StreamError).retryable).toBe(true);
  });
});
