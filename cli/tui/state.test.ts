import { describe, expect, test } from "bun:test";
import type { AgentEvent } from "../../src/code/types.ts";
import { type Action, type Item, initialState, reducer, type TuiState } from "./state.ts";
import { FakeSession } from "./testing/fake-session.ts";

const UI_ACTIONS = new Set(["text", "turn_start", "turn_end", "notice", "settings"]);

/** Folds agent events (wrapped as "event" actions) and UI actions through the reducer. */
function run(steps: (Action | AgentEvent)[], start: TuiState = initialState(new FakeSession())): TuiState {
  return steps.reduce<TuiState>((state, step) => {
    const action = UI_ACTIONS.has(step.type)
      ? (step as Action)
      : { type: "event" as const, event: step as AgentEvent };
    return reducer(state, action);
  }, start);
}

const kinds = (items: Item[]) => items.map((item) => item.kind);
const total = { inputTokens: 0, outputTokens: 0, costUsd: 0 };

describe("reducer", () => {
  test("2,000 deltas append in order into one streaming answer", () => {
    const deltas: AgentEvent[] = Array.from({ length: 2000 }, (_, i) => ({
      type: "text_delta",
      text: `<${i}>`,
    }));
    const state = run([{ type: "user_message", text: "go" }, ...deltas]);
    const answer = state.live.at(-1);
    expect(answer?.kind).toBe("assistant");
    expect(answer?.kind === "assistant" && answer.text).toBe(
      deltas.map((d) => (d as { text: string }).text).join(""),
    );
    expect(kinds(state.done)).toEqual(["user"]);
  });

  test("text before a tool call is finished and leaves for <Static>; the tool stays live until its result", () => {
    let state = run([
      { type: "user_message", text: "read it" },
      { type: "text_delta", text: "Let me look." },
      { type: "tool_call_start", id: "t1", name: "read" },
    ]);
    expect(kinds(state.done)).toEqual(["user", "assistant"]);
    expect(kinds(state.live)).toEqual(["tool"]);
    state = run(
      [
        { type: "tool_call", id: "t1", name: "read", input: { path: "a.ts" } },
        {
          type: "tool_result",
          id: "t1",
          name: "read",
          content: "x",
          isError: false,
          summary: "Read 1 line",
          durationMs: 3,
        },
      ],
      state,
    );
    expect(state.live).toEqual([]);
    const tool = state.done.at(-1);
    expect(tool?.kind === "tool" && tool.input).toEqual({ path: "a.ts" });
    expect(tool?.kind === "tool" && tool.result?.summary).toBe("Read 1 line");
  });

  test("parallel tools leave in call order even when the second finishes first", () => {
    const result = (id: string): AgentEvent => ({
      type: "tool_result",
      id,
      name: "read",
      content: id,
      isError: false,
      durationMs: 1,
    });
    let state = run([
      { type: "tool_call", id: "a", name: "read", input: {} },
      { type: "tool_call", id: "b", name: "read", input: {} },
      result("b"),
    ]);
    expect(state.done).toEqual([]);
    state = run([result("a")], state);
    expect(state.done.map((item) => item.kind === "tool" && item.id)).toEqual(["a", "b"]);
  });

  test("a turn that ends mid-tool marks the tool interrupted and adds the stop note", () => {
    const state = run([
      { type: "turn_start", at: 1 },
      { type: "tool_call", id: "a", name: "bash", input: { command: "sleep 9" } },
      { type: "final", text: "", stopReason: "interrupted", rounds: 1, total },
    ]);
    expect(state.running).toBe(false);
    expect(state.live).toEqual([]);
    const [tool, note] = state.done;
    expect(tool?.kind === "tool" && tool.result?.summary).toBe("Interrupted");
    expect(note?.kind === "notice" && note.text).toStartWith("Interrupted");
  });

  test("an assistant_message is shown only when nothing streamed (non-streaming providers)", () => {
    const message = {
      role: "assistant" as const,
      content: [{ type: "text" as const, text: "whole answer" }],
    };
    const streamed = run([
      { type: "text_delta", text: "whole answer" },
      { type: "assistant_message", message },
    ]);
    expect(streamed.live.filter((item) => item.kind === "assistant")).toHaveLength(1);
    const silent = run([{ type: "assistant_message", message }]);
    expect(silent.done.map((item) => item.kind === "assistant" && item.text)).toEqual(["whole answer"]);
  });

  test("usage, retry, compaction, todo and error events", () => {
    const state = run([
      {
        type: "usage",
        turn: { ...total, costUsd: 0.01 },
        total: { inputTokens: 10, outputTokens: 5, costUsd: 0.25 },
        contextTokens: 50_000,
        contextWindow: 200_000,
      },
      { type: "retry", attempt: 1, delayMs: 2000, reason: "429" },
      { type: "compaction", beforeTokens: 9000, afterTokens: 1000, method: "prune" },
      { type: "todo", items: [{ content: "write tests", status: "in_progress" }] },
      { type: "error", code: "network", message: "connection reset" },
    ]);
    expect(state.total.costUsd).toBe(0.25);
    expect(state.contextTokens).toBe(50_000);
    expect(state.todos).toHaveLength(1);
    expect(state.done.map((item) => item.kind === "notice" && [item.tone, item.text])).toEqual([
      ["dim", "retrying in 2 s (429) · attempt 1"],
      ["dim", "Compacted the conversation (prune): 9000 → 1000 tokens"],
      ["error", "Error: connection reset"],
    ]);
  });

  test("a resumed session redraws its messages with tool results", () => {
    const session = new FakeSession({
      messages: [
        { role: "user", content: [{ type: "text", text: "hi" }] },
        {
          role: "assistant",
          content: [
            { type: "text", text: "reading" },
            { type: "tool_use", id: "t", name: "read", input: { path: "x" } },
          ],
        },
        {
          role: "user",
          content: [{ type: "tool_result", toolUseId: "t", content: "file body", isError: false }],
        },
      ],
    });
    const state = initialState(session);
    expect(kinds(state.done)).toEqual(["user", "assistant", "tool"]);
    const tool = state.done[2];
    expect(tool?.kind === "tool" && tool.result?.content).toBe("file body");
  });
});
