/**
 * Both providers against the scripted fake server, speaking their real wire protocols over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectA3sErrorAsync } from "../../../tests/expect-error.ts";
import { type FakeProvider, startFakeProvider } from "../../../tests/fixtures/fake-provider.ts";
import type { ChatRequest, Provider, ProviderEvent } from "../types.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { createOpenAiProvider } from "./openai.ts";
import { INVALID_ARGUMENTS } from "./tool-input.ts";
import type { TransportOptions } from "./transport.ts";

const KEY = "sk-test-123";
let server: FakeProvider;
beforeAll(async () => {
  server = await startFakeProvider({ apiKey: KEY });
});
afterAll(() => server.stop());

type Protocol = "anthropic" | "openai";

function providerFor(protocol: Protocol, options: TransportOptions = {}, key = KEY): Provider {
  return protocol === "anthropic"
    ? createAnthropicProvider(
        { name: "anthropic", baseUrl: server.url, apiKey: key, keyEnv: "ANTHROPIC_API_KEY" },
        options,
      )
    : createOpenAiProvider(
        { name: "openai", baseUrl: `${server.openaiUrl}/`, apiKey: key, keyEnv: "OPENAI_API_KEY" },
        options,
      );
}

function request(extra: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: "test-model",
    system: "You are terse.",
    messages: [{ role: "user", content: [{ type: "text", text: "hello" }] }],
    tools: [
      {
        name: "read",
        description: "Read a file",
        inputSchema: { type: "object", properties: { path: { type: "string" } } },
      },
    ],
    ...extra,
  };
}

async function collect(stream: AsyncIterable<ProviderEvent>): Promise<ProviderEvent[]> {
  const events: ProviderEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function textOf(events: ProviderEvent[], type: "text_delta" | "reasoning_delta" = "text_delta"): string {
  return events.map((e) => (e.type === type ? e.text : "")).join("");
}

function ofType<T extends ProviderEvent["type"]>(events: ProviderEvent[], type: T) {
  return events.filter((e): e is Extract<ProviderEvent, { type: T }> => e.type === type);
}

/** The queue must be empty between tests, or one test's leftovers answer the next. */
function drained(): void {
  expect(server.pending()).toBe(0);
}

for (const protocol of ["anthropic", "openai"] as const) {
  describe(`${protocol} provider`, () => {
    test("streams text split into one-character events", async () => {
      const text = "Hello, wörld — 你好 🌍!";
      server.reply().text(text).chunk(1);
      const events = await collect(providerFor(protocol).stream(request()));
      expect(ofType(events, "text_delta").map((e) => e.text)).toEqual(Array.from(text));
      expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
      drained();
    });

    test("reads a body written three bytes at a time, cutting UTF-8 characters", async () => {
      const text = "wörld 你好 🌍";
      server.reply().text(text).chunk(0).bytes(3);
      const events = await collect(providerFor(protocol).stream(request()));
      expect(textOf(events)).toBe(text);
      drained();
    });

    test("assembles a tool call whose arguments arrive in many pieces", async () => {
      const input = { path: "src/a.ts", offset: 10, nested: { list: [1, "two"], quote: 'say "hi"' } };
      server.reply().text("Let me look.").tool("read", input, "call_or_toolu_1").chunk(2);
      const events = await collect(providerFor(protocol).stream(request()));
      const start = events.findIndex((e) => e.type === "tool_call_start");
      const call = events.findIndex((e) => e.type === "tool_call");
      expect(start).toBeGreaterThan(-1);
      expect(start).toBeLessThan(call);
      expect(events[start]).toEqual({ type: "tool_call_start", id: "call_or_toolu_1", name: "read" });
      expect(events[call]).toEqual({ type: "tool_call", id: "call_or_toolu_1", name: "read", input });
      expect(textOf(events)).toBe("Let me look.");
      expect(events.at(-1)).toEqual({ type: "stop", reason: "tool_use" });
      drained();
    });

    test("parallel tool calls come out whole and in order", async () => {
      const reply = server
        .reply()
        .tool("read", { path: "a.ts" })
        .tool("grep", { pattern: "TODO", glob: "**/*.ts" })
        .tool("ls", {})
        .chunk(3);
      if (protocol === "openai") reply.interleave();
      const events = await collect(providerFor(protocol).stream(request()));
      const calls = ofType(events, "tool_call");
      expect(calls.map((c) => [c.name, c.input])).toEqual([
        ["read", { path: "a.ts" }],
        ["grep", { pattern: "TODO", glob: "**/*.ts" }],
        ["ls", {}],
      ]);
      expect(new Set(calls.map((c) => c.id)).size).toBe(3);
      expect(ofType(events, "tool_call_start").map((c) => c.id)).toEqual(calls.map((c) => c.id));
      drained();
    });

    test("reports usage once, just before stop, with cached tokens apart", async () => {
      server
        .reply()
        .text("ok")
        .usage({
          input: 1200,
          output: 40,
          cacheRead: 300,
          ...(protocol === "anthropic" ? { cacheWrite: 50 } : {}),
        });
      const events = await collect(providerFor(protocol).stream(request()));
      const usage = ofType(events, "usage");
      expect(usage.length).toBe(1);
      expect(events.at(-2)).toBe(usage[0]!);
      expect(usage[0]!.usage).toEqual({
        inputTokens: 1200,
        outputTokens: 40,
        cacheReadTokens: 300,
        ...(protocol === "anthropic" ? { cacheWriteTokens: 50 } : {}),
      });
      drained();
    });

    test("streams reasoning apart from the answer", async () => {
      server.reply().reasoning("The user greets; answer briefly.").text("Hi.");
      const events = await collect(providerFor(protocol).stream(request()));
      expect(textOf(events, "reasoning_delta")).toBe("The user greets; answer briefly.");
      expect(textOf(events)).toBe("Hi.");
      const firstText = events.findIndex((e) => e.type === "text_delta");
      expect(events.findLastIndex((e) => e.type === "reasoning_delta")).toBeLessThan(firstText);
      drained();
    });

    test("429 with retry-after: one retry event with the server's delay, then the answer", async () => {
      server.reply().httpError(429, { retryAfter: 1, message: "rate limited, slow down" });
      server.reply().text("after the wait");
      const before = server.requests.length;
      const events = await collect(providerFor(protocol).stream(request()));
      expect(events[0]).toEqual({
        type: "retry",
        attempt: 1,
        delayMs: 1000,
        reason: "HTTP 429: rate limited, slow down",
      });
      expect(textOf(events)).toBe("after the wait");
      expect(server.requests.length - before).toBe(2);
      drained();
    });

    test("cancelling while waiting out a retry-after stops at once", async () => {
      server.reply().httpError(429, { retryAfter: 30 });
      const controller = new AbortController();
      const run = (async () => {
        for await (const event of providerFor(protocol).stream(request({ signal: controller.signal }))) {
          if (event.type === "retry") controller.abort();
        }
      })();
      await expectA3sErrorAsync(run, "interrupted");
      drained();
    });

    test("500 twice, then success: two retries with backoff", async () => {
      server.reply().httpError(500);
      server.reply().httpError(protocol === "anthropic" ? 529 : 503);
      server.reply().text("third time lucky");
      const events = await collect(providerFor(protocol).stream(request()));
      const retries = ofType(events, "retry");
      expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
      expect(retries.every((r) => r.delayMs > 0)).toBe(true);
      expect(textOf(events)).toBe("third time lucky");
      drained();
    });

    test("gives up after maxAttempts with a network error naming the status", async () => {
      for (let i = 0; i < 2; i++) server.reply().httpError(503, { retryAfterMs: 1, message: "busy" });
      await expectA3sErrorAsync(
        collect(providerFor(protocol, { maxAttempts: 2 }).stream(request())),
        "network",
        /HTTP 503 after 2 attempts: busy/,
      );
      drained();
    });

    test("a wrong key is a permission error naming the key's variable, not retried", async () => {
      const before = server.requests.length;
      const error = await expectA3sErrorAsync(
        collect(providerFor(protocol, {}, "sk-wrong").stream(request())),
        "permission",
        /HTTP 401/,
      );
      expect(error.hint).toContain(protocol === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
      expect(server.requests.length - before).toBe(1);
      expect(server.requests.at(-1)!.status).toBe(401);
    });

    test("400 is a usage error carrying the provider's message; 404 is not_found", async () => {
      server.reply().httpError(400, { message: "messages: roles must alternate" });
      await expectA3sErrorAsync(
        collect(providerFor(protocol).stream(request())),
        "usage",
        /messages: roles must alternate/,
      );
      server.reply().httpError(404, { message: "model: test-model" });
      await expectA3sErrorAsync(
        collect(providerFor(protocol).stream(request())),
        "not_found",
        /"test-model" not found/,
      );
      drained();
    });

    test("cancellation mid-stream throws interrupted and closes the connection", async () => {
      server.reply().text("word ".repeat(200)).chunk(5).delay(20);
      const controller = new AbortController();
      const index = server.requests.length;
      const seen: ProviderEvent[] = [];
      const run = (async () => {
        for await (const event of providerFor(protocol).stream(request({ signal: controller.signal }))) {
          seen.push(event);
          if (seen.length === 3) controller.abort();
        }
      })();
      await expectA3sErrorAsync(run, "interrupted");
      await server.waitForAbort(index);
      expect(server.requests[index]!.aborted).toBe(true);
      expect(seen.every((e) => e.type === "text_delta")).toBe(true);
      drained();
    });

    test("breaking out of the stream early closes the connection too", async () => {
      server.reply().text("word ".repeat(200)).chunk(5).delay(20);
      const index = server.requests.length;
      for await (const event of providerFor(protocol).stream(request())) {
        if (event.type === "text_delta") break;
      }
      await server.waitForAbort(index);
      drained();
    });

    test("a server that never answers hits the idle timeout: network error", async () => {
      server.reply().hang();
      await expectA3sErrorAsync(
        collect(providerFor(protocol, { idleTimeoutMs: 300 }).stream(request())),
        "network",
        /sent nothing for 0.3 s/,
      );
      drained();
    });

    test("a stream that stalls after some text hits the idle timeout", async () => {
      server.reply().text("partial answer").hang();
      const seen: ProviderEvent[] = [];
      const run = (async () => {
        for await (const event of providerFor(protocol, { idleTimeoutMs: 300 }).stream(request()))
          seen.push(event);
      })();
      await expectA3sErrorAsync(run, "network", /sent nothing/);
      expect(textOf(seen)).toBe("partial answer");
      drained();
    });

    test("an error event after text is thrown, not retried (the text already reached the caller)", async () => {
      server.reply().text("half an ans").midStreamError();
      const before = server.requests.length;
      const seen: ProviderEvent[] = [];
      const run = (async () => {
        for await (const event of providerFor(protocol).stream(request())) seen.push(event);
      })();
      await expectA3sErrorAsync(run, "network", /mid-stream/);
      expect(textOf(seen)).toBe("half an ans");
      expect(server.requests.length - before).toBe(1);
      drained();
    });

    test("an error event before any content is retried like an HTTP error", async () => {
      server
        .reply()
        .midStreamError(protocol === "anthropic" ? "overloaded_error" : "server_error", "try later");
      server.reply().text("recovered");
      const events = await collect(providerFor(protocol).stream(request()));
      expect(events[0]).toMatchObject({ type: "retry", attempt: 1 });
      expect((events[0] as { reason: string }).reason).toContain("try later");
      expect(textOf(events)).toBe("recovered");
      drained();
    });

    test("a dropped connection mid-answer is a network error", async () => {
      server.reply().text("some text").disconnect();
      const run = collect(providerFor(protocol, { maxAttempts: 1 }).stream(request()));
      await expectA3sErrorAsync(run, "network");
      drained();
    });

    test("tool arguments that are not JSON still make a tool call, marked invalid", async () => {
      server.reply().rawTool("edit", '{"path": "a.ts", "old": ').stop("max_tokens");
      const events = await collect(providerFor(protocol).stream(request()));
      expect(ofType(events, "tool_call")[0]!.input).toEqual({
        [INVALID_ARGUMENTS]: '{"path": "a.ts", "old": ',
      });
      expect(events.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
      drained();
    });

    test("sends the key, the model, the system prompt and the tools in the protocol's shape", async () => {
      server.reply().text("ok");
      await collect(providerFor(protocol).stream(request({ maxTokens: 321 })));
      const sent = server.requests.at(-1)!;
      expect(sent.protocol).toBe(protocol);
      expect(sent.body.model).toBe("test-model");
      expect(sent.body.stream).toBe(true);
      if (protocol === "anthropic") {
        expect(sent.headers["x-api-key"]).toBe(KEY);
        expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
        expect(sent.body.max_tokens).toBe(321);
        expect(sent.body.system[0].text).toBe("You are terse.");
        expect(sent.body.tools[0]).toMatchObject({ name: "read", input_schema: { type: "object" } });
      } else {
        expect(sent.path).toBe("/v1/chat/completions");
        expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
        expect(sent.body.max_tokens).toBe(321);
        expect(sent.body.stream_options).toEqual({ include_usage: true });
        expect(sent.body.messages[0]).toEqual({ role: "system", content: "You are terse." });
        expect(sent.body.tools[0]).toEqual({
          type: "function",
          function: { name: "read", description: "Read a file", parameters: request().tools[0]!.inputSchema },
        });
      }
      drained();
    });
  });
}

describe("connection failures", () => {
  test("an address nobody listens on: retried, then a network error naming the host", async () => {
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = probe.port;
    await probe.stop(true);
    const provider = createOpenAiProvider(
      { name: "local", baseUrl: `http://127.0.0.1:${port}/v1` },
      { maxAttempts: 2 },
    );
    const seen: ProviderEvent[] = [];
    const run = (async () => {
      for await (const event of provider.stream(request())) seen.push(event);
    })();
    await expectA3sErrorAsync(run, "network", new RegExp(`cannot reach local at 127.0.0.1:${port}`));
    expect(seen.map((e) => e.type)).toEqual(["retry"]);
  });
});
