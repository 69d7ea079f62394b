import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { type Database, openDatabase } from "../../core/db.ts";
import { A3sError } from "../../core/errors.ts";
import { SessionStore } from "../sessions.ts";
import type { AgentEvent, ChatRequest, Provider, ProviderEvent, Tool, ToolContext } from "../types.ts";
import { type AgentState, emptyUsage, type LoopDeps, runPrompt } from "./loop.ts";
import type { PermissionPolicy } from "./tool-calls.ts";

/** A provider answering from a script, one entry per request, recording what it was sent. */
class ScriptedProvider implements Provider {
  readonly name = "scripted";
  readonly requests: ChatRequest[] = [];
  constructor(private readonly script: Array<(request: ChatRequest) => AsyncIterable<ProviderEvent>>) {}
  stream(request: ChatRequest): AsyncIterable<ProviderEvent> {
    this.requests.push(structuredClone({ ...request, signal: undefined }));
    const next = this.script.shift();
    if (!next) throw new A3sError("runtime", "script exhausted");
    return next(request);
  }
}

/** Usage as a real provider would count it: about 4 characters a token. */
function reply(...events: ProviderEvent[]) {
  return async function* (request: ChatRequest) {
    yield* events;
    const inputTokens = Math.ceil(JSON.stringify(request.messages).length / 4);
    yield { type: "usage", usage: { inputTokens, outputTokens: 10 } } as ProviderEvent;
  };
}
const text = (t: string): ProviderEvent => ({ type: "text_delta", text: t });
const call = (id: string, name: string, input: Record<string, unknown>): ProviderEvent => ({
  type: "tool_call",
  id,
  name,
  input,
});
const stop = (reason: "end_turn" | "tool_use" = "end_turn"): ProviderEvent => ({ type: "stop", reason });

let running = 0;
let maxRunning = 0;
function tool(name: string, readOnly: boolean, run?: (input: { value: string }) => Promise<string>): Tool {
  return {
    name,
    ruleName: name,
    description: name,
    input: z.object({ value: z.string() }) as z.ZodType<Record<string, unknown>>,
    readOnly,
    ruleSubject: (input) => String(input.value),
    async run(input) {
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        await Bun.sleep(20);
        const out = run ? await run(input as { value: string }) : `${name}:${input.value}`;
        return { content: out, summary: out };
      } finally {
        running--;
      }
    },
  };
}

let dir: string;
let db: Database;
let store: SessionStore;
let events: AgentEvent[];
let granted: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "a3s-loop-"));
  db = openDatabase(join(dir, "a3s.db"));
  store = new SessionStore(db);
  events = [];
  granted = [];
  running = 0;
  maxRunning = 0;
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(
  provider: Provider,
  tools: Tool[],
  overrides: Partial<LoopDeps> = {},
  rules: Record<string, "allow" | "deny" | "ask"> = {},
) {
  const session = store.create({ cwd: dir, model: "scripted/m" });
  const state: AgentState = {
    sessionId: session.id,
    messages: [],
    total: emptyUsage(),
    contextTokens: 0,
    tokenRatio: 1,
    prunedOutputs: 0,
  };
  const policy: PermissionPolicy = {
    decide: (t) => ({
      behavior: rules[t.name] ?? (t.readOnly ? "allow" : "ask"),
      reason: `rule for ${t.name}`,
    }),
    suggestRule: (t, input) => `${t.ruleName}(${String(input.value)})`,
    grant: (rule) => granted.push(rule),
  };
  const deps: LoopDeps = {
    provider,
    model: "m",
    system: "you are a test",
    toolSpecs: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: {} })),
    toolCalls: {
      tools: new Map(tools.map((t) => [t.name, t])),
      validate: (t, input) => {
        const parsed = t.input.safeParse(input);
        return parsed.success ? { ok: true, input: parsed.data } : { ok: false, error: "invalid input" };
      },
      policy,
    },
    toolContext: (signal) => ({ signal }) as unknown as ToolContext,
    store,
    maxRounds: 10,
    maxTokens: 1000,
    contextWindow: 100_000,
    costOf: (usage) => usage.inputTokens / 1000,
    emit: (event) => events.push(event),
    ...overrides,
  };
  return { state, deps };
}

describe("runPrompt", () => {
  test("a text answer is streamed, recorded and costed", async () => {
    const provider = new ScriptedProvider([reply(text("Hel"), text("lo"), stop())]);
    const { state, deps } = setup(provider, []);
    const final = await runPrompt(state, "hi", deps, new AbortController().signal);
    expect(final).toMatchObject({ text: "Hello", stopReason: "end_turn", rounds: 1 });
    expect(events.filter((e) => e.type === "text_delta").map((e) => (e as { text: string }).text)).toEqual([
      "Hel",
      "lo",
    ]);
    expect(store.conversation(state.sessionId)).toEqual(state.messages);
    expect(state.messages).toHaveLength(2);
    expect(store.get(state.sessionId).usage.costUsd).toBeGreaterThan(0);
    expect(store.get(state.sessionId).usage.costUsd).toBe(state.total.costUsd);
    expect(provider.requests[0]?.system).toBe("you are a test");
  });

  test("tool calls run, results go back, read-only calls run together and writes alone", async () => {
    const provider = new ScriptedProvider([
      reply(
        call("a", "look", { value: "1" }),
        call("b", "look", { value: "2" }),
        call("c", "change", { value: "3" }),
        stop("tool_use"),
      ),
      reply(text("done"), stop()),
    ]);
    const { state, deps } = setup(
      provider,
      [tool("look", true), tool("change", false)],
      {},
      { change: "allow" },
    );
    const final = await runPrompt(state, "go", deps, new AbortController().signal);
    expect(final.stopReason).toBe("end_turn");
    expect(maxRunning).toBe(2);
    const results = provider.requests[1]?.messages.at(-1)?.content;
    expect(results).toEqual([
      { type: "tool_result", toolUseId: "a", content: "look:1" },
      { type: "tool_result", toolUseId: "b", content: "look:2" },
      { type: "tool_result", toolUseId: "c", content: "change:3" },
    ]);
    expect(events.filter((e) => e.type === "tool_result")).toHaveLength(3);
  });

  test("denied, unknown and invalid calls become error results the model can act on", async () => {
    const provider = new ScriptedProvider([
      reply(
        call("a", "change", { value: "x" }),
        call("b", "nope", {}),
        call("c", "look", { value: 3 }),
        stop("tool_use"),
      ),
      reply(text("ok"), stop()),
    ]);
    const { state, deps } = setup(
      provider,
      [tool("look", true), tool("change", false)],
      {},
      { change: "deny" },
    );
    await runPrompt(state, "go", deps, new AbortController().signal);
    const results = provider.requests[1]?.messages.at(-1)?.content as Array<{
      content: string;
      isError?: boolean;
    }>;
    expect(results.map((r) => r.isError)).toEqual([true, true, true]);
    expect(results[0]?.content).toContain("Permission denied (rule for change)");
    expect(results[1]?.content).toContain("Unknown tool 'nope'");
    expect(results[2]?.content).toBe("invalid input");
  });

  test("ask without an approver is a denial naming the --allow rule; allow always grants the rule", async () => {
    const provider = new ScriptedProvider([
      reply(call("a", "change", { value: "x" }), stop("tool_use")),
      reply(text("ok"), stop()),
      reply(call("b", "change", { value: "y" }), stop("tool_use")),
      reply(text("ok"), stop()),
    ]);
    const { state, deps } = setup(provider, [tool("change", false)]);
    await runPrompt(state, "one", deps, new AbortController().signal);
    const denied = provider.requests[1]?.messages.at(-1)?.content[0] as { content: string };
    expect(denied.content).toContain("--allow 'change(x)'");

    deps.toolCalls.approver = async (request) => ({ kind: "allow_always", rule: request.suggestedRule });
    await runPrompt(state, "two", deps, new AbortController().signal);
    expect(granted).toEqual(["change(y)"]);
    const ran = provider.requests[3]?.messages.at(-1)?.content[0] as { content: string };
    expect(ran.content).toBe("change:y");
  });

  test("interrupting mid-stream keeps the partial answer and the session goes on", async () => {
    const controller = new AbortController();
    const provider = new ScriptedProvider([
      async function* (request) {
        yield text("partial ");
        controller.abort();
        if (request.signal?.aborted) throw new A3sError("interrupted", "request cancelled");
      },
      reply(text("fine"), stop()),
    ]);
    const { state, deps } = setup(provider, []);
    const final = await runPrompt(state, "long task", deps, controller.signal);
    expect(final.stopReason).toBe("interrupted");
    expect(state.messages.at(-1)).toEqual({
      role: "assistant",
      content: [{ type: "text", text: "partial " }],
    });
    const next = await runPrompt(state, "again", deps, new AbortController().signal);
    expect(next.text).toBe("fine");
    expect(provider.requests[1]?.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  test("interrupting while tools run answers every call, so the conversation stays valid", async () => {
    const controller = new AbortController();
    const slow = tool("slow", false, async () => {
      controller.abort();
      return "finished anyway";
    });
    const provider = new ScriptedProvider([
      reply(call("a", "slow", { value: "1" }), call("b", "slow", { value: "2" }), stop("tool_use")),
    ]);
    const { state, deps } = setup(provider, [slow], {}, { slow: "allow" });
    const final = await runPrompt(state, "go", deps, controller.signal);
    expect(final.stopReason).toBe("interrupted");
    const results = state.messages.at(-1)?.content as Array<{ toolUseId: string; isError?: boolean }>;
    expect(results.map((r) => [r.toolUseId, r.isError === true])).toEqual([
      ["a", false],
      ["b", true],
    ]);
  });

  test("stops at maxRounds", async () => {
    const loop = () => reply(call(`c${Math.random()}`, "look", { value: "x" }), stop("tool_use"));
    const provider = new ScriptedProvider([loop(), loop(), loop()]);
    const { state, deps } = setup(provider, [tool("look", true)], { maxRounds: 2 });
    const final = await runPrompt(state, "go", deps, new AbortController().signal);
    expect(final).toMatchObject({ stopReason: "max_rounds", rounds: 2 });
    expect(events.some((e) => e.type === "error" && e.message.includes("2 rounds"))).toBe(true);
  });

  test("a provider error ends the prompt with an error event; nothing half-written is recorded", async () => {
    const provider = new ScriptedProvider([
      // biome-ignore lint/correctness/useYield: the provider fails before its first event
      async function* () {
        throw new A3sError("permission", "invalid x-api-key");
      },
    ]);
    const { state, deps } = setup(provider, []);
    const final = await runPrompt(state, "hi", deps, new AbortController().signal);
    expect(final.stopReason).toBe("error");
    expect(events).toContainEqual({ type: "error", code: "permission", message: "invalid x-api-key" });
    expect(state.messages).toHaveLength(1);
  });

  test("hooks: a blocked prompt is not sent; a Stop hook objection makes the agent go on", async () => {
    const provider = new ScriptedProvider([reply(text("first"), stop()), reply(text("second"), stop())]);
    let stops = 0;
    const hooks = {
      userPromptSubmit: async (prompt: string) =>
        prompt.includes("secret") ? { blocked: "no secrets" } : { context: "ctx!" },
      stop: async (continuing: boolean) => {
        stops++;
        return continuing ? undefined : "run the tests first";
      },
      preToolUse: async () => ({}),
      postToolUse: async () => undefined,
    };
    const { state, deps } = setup(provider, [], { hooks });
    const blocked = await runPrompt(state, "my secret", deps, new AbortController().signal);
    expect(blocked.stopReason).toBe("blocked");
    expect(provider.requests).toHaveLength(0);
    const final = await runPrompt(state, "go", deps, new AbortController().signal);
    expect(final.text).toBe("second");
    expect(stops).toBe(2);
    expect(JSON.stringify(provider.requests[0]?.messages)).toContain("ctx!");
    expect(JSON.stringify(provider.requests[1]?.messages)).toContain("Stop hook: run the tests first");
  });

  test("near the window, old tool outputs are pruned first; the latest ones never", async () => {
    const big = "x".repeat(60_000);
    const provider = new ScriptedProvider([
      reply(call("a", "look", { value: "1" }), stop("tool_use")),
      reply(text("read it"), stop()),
      reply(text("after"), stop()),
    ]);
    const { state, deps } = setup(provider, [tool("look", true, async () => big)], { contextWindow: 16_000 });
    await runPrompt(state, "first", deps, new AbortController().signal);
    expect(JSON.stringify(provider.requests[1]?.messages)).toContain(big);
    await runPrompt(state, "second", deps, new AbortController().signal);
    const sent = JSON.stringify(provider.requests[2]?.messages);
    expect(sent).not.toContain(big);
    expect(sent).toContain("[output pruned to save context: 60000 characters");
    expect(events.some((e) => e.type === "compaction" && e.method === "prune")).toBe(true);
    // The log keeps the whole output; pruning only shapes what is sent.
    expect(JSON.stringify(store.conversation(state.sessionId))).toContain(big);
  });

  test("when pruning is not enough, the older conversation is replaced by the model's summary", async () => {
    const provider = new ScriptedProvider([
      reply(text("noted"), stop()),
      reply(text("THE SUMMARY"), stop()),
      reply(text("after"), stop()),
    ]);
    const { state, deps } = setup(provider, [], { contextWindow: 16_000 });
    await runPrompt(state, "a".repeat(30_000), deps, new AbortController().signal);
    await runPrompt(state, "b".repeat(30_000), deps, new AbortController().signal);
    expect(provider.requests[1]?.tools).toEqual([]);
    expect(JSON.stringify(provider.requests[1]?.messages)).toContain("a".repeat(30_000));
    const last = provider.requests[2]?.messages ?? [];
    expect(JSON.stringify(last[0])).toContain("THE SUMMARY");
    expect(JSON.stringify(last)).not.toContain("a".repeat(30_000));
    expect(JSON.stringify(last)).toContain("b".repeat(30_000));
    expect(events.some((e) => e.type === "compaction" && e.method === "summary")).toBe(true);
    expect(store.conversation(state.sessionId)).toEqual(state.messages);
  });
});
