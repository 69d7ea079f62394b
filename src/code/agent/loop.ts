/**
 * The agent loop: one user prompt → model rounds until the model stops calling tools, the round
 * limit is hit, or the user interrupts. Every step is recorded in the session before the next one
 * starts, so an interrupted or crashed prompt leaves a conversation that can be resumed as is.
 */
import { A3sError, isA3sError } from "../../core/errors.ts";
import { type SessionStore, summaryMessage } from "../sessions.ts";
import type {
  AgentEvent,
  ContentBlock,
  Message,
  Provider,
  StopReason,
  ToolContext,
  ToolSpec,
  ToolUseBlock,
  TurnUsage,
  Usage,
} from "../types.ts";
import {
  estimateTokens,
  mergeAdjacent,
  PRUNE_AT,
  pruneToolOutputs,
  SUMMARISE_AT,
  summarise,
  summarySplit,
} from "./compaction.ts";
import { runToolCalls, type ToolCallDeps, type ToolHooks } from "./tool-calls.ts";

export interface LoopHooks extends ToolHooks {
  /** `blocked`: the prompt is refused with this reason; `context`: text added after the prompt. */
  userPromptSubmit(prompt: string): Promise<{ blocked?: string; context?: string }>;
  /** Text to go on with when a Stop hook objects to stopping (exit 2), else undefined. */
  stop(alreadyContinuing: boolean): Promise<string | undefined>;
}

/** What the loop changes, owned by the session object. */
export interface AgentState {
  sessionId: string;
  /** The conversation as the model sees it (a summary first once compacted). */
  messages: Message[];
  total: TurnUsage;
  contextTokens: number;
  /** Real tokens per estimated token, learned from the provider's usage reports. */
  tokenRatio: number;
  prunedOutputs: number;
}

export interface LoopDeps {
  provider: Provider;
  /** The provider's model id (without the provider prefix). */
  model: string;
  system: string;
  toolSpecs: readonly ToolSpec[];
  toolCalls: Omit<ToolCallDeps, "emit" | "context">;
  toolContext(signal: AbortSignal): ToolContext;
  store: SessionStore;
  hooks?: LoopHooks;
  maxRounds: number;
  maxTokens: number;
  contextWindow: number;
  costOf(usage: Usage): number;
  emit(event: AgentEvent): void;
}

type Final = Extract<AgentEvent, { type: "final" }>;

export function emptyUsage(): TurnUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
}

export async function runPrompt(
  state: AgentState,
  prompt: string,
  deps: LoopDeps,
  signal: AbortSignal,
): Promise<Final> {
  let rounds = 0;
  const finish = (stopReason: Final["stopReason"], text = ""): Final => {
    const event: Final = { type: "final", text, stopReason, rounds, total: { ...state.total } };
    deps.emit(event);
    return event;
  };

  try {
    const submitted = deps.hooks ? await deps.hooks.userPromptSubmit(prompt) : {};
    if (submitted.blocked !== undefined) {
      deps.emit({
        type: "error",
        code: "permission",
        message: `prompt blocked by a hook: ${submitted.blocked}`,
      });
      return finish("blocked");
    }
    deps.emit({ type: "user_message", text: prompt });
    const content: ContentBlock[] = [{ type: "text", text: prompt }];
    if (submitted.context) content.push({ type: "text", text: submitted.context });
    record(state, deps, { role: "user", content });

    let continuedByStopHook = false;
    for (;;) {
      if (rounds >= deps.maxRounds) {
        deps.emit({
          type: "error",
          code: "runtime",
          message: `stopped after ${deps.maxRounds} rounds (code.maxRounds)`,
        });
        return finish("max_rounds", lastAssistantText(state.messages));
      }
      rounds++;
      const messages = await contextFor(state, deps, signal);
      const response = await streamRound(state, deps, messages, signal);
      if (response.interrupted) return finish("interrupted", response.text);
      if (response.calls.length === 0) {
        if (response.stopReason === "end_turn" && deps.hooks) {
          const more = await deps.hooks.stop(continuedByStopHook);
          if (more !== undefined) {
            continuedByStopHook = true;
            record(state, deps, { role: "user", content: [{ type: "text", text: `Stop hook: ${more}` }] });
            continue;
          }
        }
        return finish(response.stopReason, response.text);
      }
      const results = await runToolCalls(response.calls, {
        ...deps.toolCalls,
        context: deps.toolContext(signal),
        emit: deps.emit,
      });
      record(state, deps, { role: "user", content: results });
      if (signal.aborted) return finish("interrupted", response.text);
    }
  } catch (err) {
    if (signal.aborted || (isA3sError(err) && err.code === "interrupted")) return finish("interrupted");
    const error = isA3sError(err)
      ? err
      : new A3sError("internal", err instanceof Error ? err.message : String(err), { cause: err });
    deps.emit({ type: "error", code: error.code, message: error.message });
    return finish("error");
  }
}

function record(state: AgentState, deps: LoopDeps, message: Message): void {
  deps.store.appendMessage(state.sessionId, message);
  state.messages.push(message);
}

interface RoundResult {
  text: string;
  calls: ToolUseBlock[];
  stopReason: StopReason;
  interrupted: boolean;
}

async function streamRound(
  state: AgentState,
  deps: LoopDeps,
  messages: Message[],
  signal: AbortSignal,
): Promise<RoundResult> {
  let text = "";
  const calls: ToolUseBlock[] = [];
  let stopReason: StopReason = "end_turn";
  let usage: Usage | undefined;
  const estimated = estimateTokens(messages, deps.system);
  try {
    for await (const event of deps.provider.stream({
      model: deps.model,
      system: deps.system,
      messages,
      tools: deps.toolSpecs,
      maxTokens: answerBudget(deps),
      signal,
    })) {
      switch (event.type) {
        case "text_delta":
          text += event.text;
          deps.emit(event);
          break;
        case "reasoning_delta":
        case "tool_call_start":
        case "retry":
          deps.emit(event);
          break;
        case "tool_call": {
          const call: ToolUseBlock = { type: "tool_use", id: event.id, name: event.name, input: event.input };
          calls.push(call);
          deps.emit({ type: "tool_call", id: event.id, name: event.name, input: event.input });
          break;
        }
        case "usage":
          usage = event.usage;
          break;
        case "stop":
          stopReason = event.reason;
          break;
      }
    }
  } catch (err) {
    if (!signal.aborted && !(isA3sError(err) && err.code === "interrupted")) throw err;
    // Keep what the user already saw; calls whose arguments were still streaming are dropped.
    if (text) record(state, deps, { role: "assistant", content: [{ type: "text", text }] });
    return { text, calls: [], stopReason, interrupted: true };
  }

  const content: ContentBlock[] = text ? [{ type: "text", text }, ...calls] : [...calls];
  // An empty answer is not recorded: providers reject empty assistant messages.
  if (content.length > 0) {
    const message: Message = { role: "assistant", content };
    record(state, deps, message);
    deps.emit({ type: "assistant_message", message });
  }
  if (usage) account(state, deps, usage, estimated);
  return { text, calls, stopReason, interrupted: false };
}

function account(state: AgentState, deps: LoopDeps, usage: Usage, estimated: number): void {
  const costUsd = deps.costOf(usage);
  deps.store.addUsage(state.sessionId, usage, costUsd);
  const turn: TurnUsage = { cacheReadTokens: 0, cacheWriteTokens: 0, ...usage, costUsd };
  state.total = {
    inputTokens: state.total.inputTokens + turn.inputTokens,
    outputTokens: state.total.outputTokens + turn.outputTokens,
    cacheReadTokens: (state.total.cacheReadTokens ?? 0) + (turn.cacheReadTokens ?? 0),
    cacheWriteTokens: (state.total.cacheWriteTokens ?? 0) + (turn.cacheWriteTokens ?? 0),
    costUsd: state.total.costUsd + costUsd,
  };
  const prompt = usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
  state.contextTokens = prompt + usage.outputTokens;
  if (prompt > 0 && estimated > 0) state.tokenRatio = Math.min(3, Math.max(0.5, prompt / estimated));
  deps.emit({
    type: "usage",
    turn,
    total: { ...state.total },
    contextTokens: state.contextTokens,
    contextWindow: deps.contextWindow,
  });
}

/** The messages to send: pruned, or replaced by a summary first when the window is nearly full. */
async function contextFor(state: AgentState, deps: LoopDeps, signal: AbortSignal): Promise<Message[]> {
  const window = deps.contextWindow / state.tokenRatio;
  const reserve = answerBudget(deps) + estimateTokens([], JSON.stringify(deps.toolSpecs));
  let view = pruneToolOutputs(state.messages, window * PRUNE_AT - reserve, deps.system);
  if (view.tokens > window * SUMMARISE_AT - reserve) {
    const split = summarySplit(state.messages);
    if (split !== undefined) {
      await compactInto(state, deps, split, signal);
      view = pruneToolOutputs(state.messages, window * PRUNE_AT - reserve, deps.system);
    }
  }
  if (view.pruned > state.prunedOutputs) {
    deps.emit({
      type: "compaction",
      beforeTokens: Math.round(estimateTokens(state.messages, deps.system) * state.tokenRatio),
      afterTokens: Math.round(view.tokens * state.tokenRatio),
      method: "prune",
    });
  }
  state.prunedOutputs = view.pruned;
  return mergeAdjacent(view.messages);
}

/**
 * Replaces messages[0, split) by a summary: the summary row, then the kept messages again, go into
 * the session log, so `conversation()` rebuilds exactly this after a resume.
 */
export async function compactInto(
  state: AgentState,
  deps: Pick<LoopDeps, "provider" | "model" | "system" | "store" | "emit">,
  split: number,
  signal?: AbortSignal,
): Promise<void> {
  const before = estimateTokens(state.messages, deps.system);
  const summary = await summarise(
    deps.provider,
    deps.model,
    mergeAdjacent(state.messages.slice(0, split)),
    signal,
  );
  if (!summary) throw new A3sError("runtime", "the model returned an empty summary; nothing was compacted");
  const kept = state.messages.slice(split);
  deps.store.appendSummary(state.sessionId, summary);
  for (const message of kept) deps.store.appendMessage(state.sessionId, message);
  state.messages = [summaryMessage(summary), ...kept];
  state.prunedOutputs = 0;
  deps.emit({
    type: "compaction",
    beforeTokens: Math.round(before * state.tokenRatio),
    afterTokens: Math.round(estimateTokens(state.messages, deps.system) * state.tokenRatio),
    method: "summary",
  });
}

/** code.maxTokens, but never more than a quarter of a small (local) model's window. */
function answerBudget(deps: Pick<LoopDeps, "maxTokens" | "contextWindow">): number {
  return Math.min(deps.maxTokens, Math.floor(deps.contextWindow / 4));
}

function lastAssistantText(messages: readonly Message[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as Message;
    if (message.role !== "assistant") continue;
    return message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
  }
  return "";
}
