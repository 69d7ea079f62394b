import { describe, expect, test } from "bun:test";
import type { Message, ProviderEvent } from "../types.ts";
import { parseOpenAiStream, toOpenAiMessages, toOpenAiRequest } from "./openai.ts";
import { parseSse } from "./sse.ts";
import { INVALID_ARGUMENTS } from "./tool-input.ts";
import { StreamError } from "./transport.ts";

async function parse(text: string): Promise<ProviderEvent[]> {
  async function* body() {
    yield text;
  }
  const events: ProviderEvent[] = [];
  for await (const event of parseOpenAiStream(parseSse(body()))) events.push(event);
  return events;
}

const data = (chunk: unknown) => `data: ${JSON.stringify(chunk)}\n\n`;
const delta = (d: unknown, finish: string | null = null) =>
  data({ choices: [{ index: 0, delta: d, finish_reason: finish }] });

const conversation: Message[] = [
  { role: "user", content: [{ type: "text", text: "Fix the test" }] },
  {
    role: "assistant",
    content: [
      { type: "text", text: "Reading both." },
      { type: "tool_use", id: "call_1", name: "read", input: { path: "a.ts" } },
      { type: "tool_use", id: "call_2", name: "edit", input: { [INVALID_ARGUMENTS]: '{"path": "a' } },
    ],
  },
  {
    role: "user",
    content: [
      { type: "text", text: "(also check b.ts)" },
      { type: "tool_result", toolUseId: "call_1", content: "1\tconst a = 1;" },
      { type: "tool_result", toolUseId: "call_2", content: "invalid arguments", isError: true },
    ],
  },
  { role: "assistant", content: [{ type: "tool_use", id: "call_3", name: "ls", input: {} }] },
  { role: "user", content: [{ type: "tool_result", toolUseId: "call_3", content: "a.ts\nb.ts" }] },
];

describe("toOpenAiMessages", () => {
  test("system first, tool calls with JSON-text arguments, one tool message per result before the user's text", () => {
    expect(toOpenAiMessages("Be brief.", conversation)).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Fix the test" },
      {
        role: "assistant",
        content: "Reading both.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "read", arguments: '{"path":"a.ts"}' } },
          // the model's broken arguments go back as it wrote them
          { id: "call_2", type: "function", function: { name: "edit", arguments: '{"path": "a' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "1\tconst a = 1;" },
      { role: "tool", tool_call_id: "call_2", content: "Error: invalid arguments" },
      { role: "user", content: "(also check b.ts)" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_3", type: "function", function: { name: "ls", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "call_3", content: "a.ts\nb.ts" },
    ]);
  });

  test("no system prompt, no system message; empty assistant turns are skipped", () => {
    expect(
      toOpenAiMessages("", [
        { role: "user", content: [{ type: "text", text: "a" }] },
        { role: "assistant", content: [{ type: "text", text: "" }] },
      ]),
    ).toEqual([{ role: "user", content: "a" }]);
  });
});

describe("toOpenAiRequest", () => {
  test("tools as functions, usage requested, the max-tokens field the server understands", () => {
    const request = {
      model: "gpt-4.1",
      system: "",
      messages: conversation.slice(0, 1),
      tools: [
        { name: "read", description: "Read a file", inputSchema: { type: "object", required: ["path"] } },
      ],
      maxTokens: 500,
    };
    const body = toOpenAiRequest(request, "max_completion_tokens");
    expect(body).toMatchObject({
      model: "gpt-4.1",
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 500,
      tools: [
        {
          type: "function",
          function: {
            name: "read",
            description: "Read a file",
            parameters: { type: "object", required: ["path"] },
          },
        },
      ],
    });
    expect("max_tokens" in body).toBe(false);
    const local = toOpenAiRequest({ ...request, tools: [] });
    expect(local.max_tokens).toBe(500);
    expect("tools" in local).toBe(false);
  });
});

describe("parseOpenAiStream", () => {
  test("DeepSeek: reasoning_content, then content; prompt_cache_hit_tokens as cache reads", async () => {
    const events = await parse(
      delta({ role: "assistant", content: null, reasoning_content: "" }) +
        delta({ content: null, reasoning_content: "Think" }) +
        delta({ content: null, reasoning_content: "ing." }) +
        delta({ content: "Answer", reasoning_content: null }) +
        data({
          choices: [{ index: 0, delta: { content: "" }, finish_reason: "stop" }],
          usage: {
            prompt_tokens: 100,
            completion_tokens: 20,
            prompt_cache_hit_tokens: 64,
            prompt_cache_miss_tokens: 36,
          },
        }) +
        "data: [DONE]\n\n",
    );
    expect(events).toEqual([
      { type: "reasoning_delta", text: "Think" },
      { type: "reasoning_delta", text: "ing." },
      { type: "text_delta", text: "Answer" },
      { type: "usage", usage: { inputTokens: 36, outputTokens: 20, cacheReadTokens: 64 } },
      { type: "stop", reason: "end_turn" },
    ]);
  });

  test("a whole tool call in one chunk without index or id (older local servers), finished with stop", async () => {
    const events = await parse(
      delta({
        role: "assistant",
        tool_calls: [
          { function: { name: "read", arguments: '{"path":"x"}' } },
          { function: { name: "ls", arguments: "{}" } },
        ],
      }) +
        delta({}, "stop") +
        "data: [DONE]\n\n",
    );
    const calls = events.filter((e) => e.type === "tool_call");
    expect(calls.map((c) => (c.type === "tool_call" ? [c.name, c.input] : []))).toEqual([
      ["read", { path: "x" }],
      ["ls", {}],
    ]);
    expect(calls.every((c) => c.type === "tool_call" && /^call_[0-9a-f]{24}$/.test(c.id))).toBe(true);
    expect(events.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
  });

  test("finish reasons: length → max_tokens, content_filter → refusal; a stream without [DONE] still ends", async () => {
    expect((await parse(delta({ content: "a" }) + delta({}, "length"))).at(-1)).toEqual({
      type: "stop",
      reason: "max_tokens",
    });
    expect((await parse(delta({}, "content_filter"))).at(-1)).toEqual({ type: "stop", reason: "refusal" });
  });

  test("OpenRouter's `reasoning` field is read too", async () => {
    const events = await parse(
      `${delta({ reasoning: "hmm" }) + delta({ content: "ok" }, "stop")}data: [DONE]\n\n`,
    );
    expect(events.slice(0, 2)).toEqual([
      { type: "reasoning_delta", text: "hmm" },
      { type: "text_delta", text: "ok" },
    ]);
  });

  test("an error object in the stream fails it (retryable); so does a stream cut before finish_reason or [DONE]", async () => {
    const failure = async (text: string) => {
      try {
        await parse(text);
      } catch (err) {
        return err as StreamError;
      }
      throw new Error("expected a failure");
    };
    const mid = await failure(
      delta({ content: "a" }) + data({ error: { message: "upstream overloaded", type: "server_error" } }),
    );
    expect(mid).toBeInstanceOf(StreamError);
    expect(mid.message).toContain("upstream overloaded");
    expect(mid.retryable).toBe(true);
    const done = await parse(`${delta({ content: "a" })}data: [DONE]\n\n`);
    expect(done.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
    const cut = await failure(delta({ content: "a" }));
    expect(cut.code).toBe("network");
    expect(cut.message).toContain("without a finish_reason");
  });
});
