/**
 * The TUI's state: a reducer over the agent's events and the UI's own actions. The transcript is
 * split in two: `done` items never change again (they go into Ink's <Static>), `live` items still
 * may (the streaming answer, tool calls awaiting results). Items leave `live` only as a prefix,
 * so the transcript keeps the order things began in even when parallel tools finish out of order.
 */
import type {
  AgentEvent,
  ApprovalRequest,
  CodeSession,
  Message,
  PermissionMode,
  TodoItem,
  ToolDisplay,
  TurnUsage,
} from "../../src/code/types.ts";
import { formatDelay } from "./format.ts";

export interface ToolResultView {
  content: string;
  isError: boolean;
  summary?: string;
  display?: ToolDisplay;
  durationMs?: number;
}

export type Item =
  | { kind: "user"; key: number; text: string }
  | { kind: "assistant"; key: number; text: string; streaming: boolean }
  | {
      kind: "tool";
      key: number;
      id: string;
      name: string;
      input?: Record<string, unknown>;
      denied?: string;
      result?: ToolResultView;
      /** The tools a subagent started by this `task` call has called so far. */
      steps?: SubagentStep[];
    }
  | { kind: "notice"; key: number; tone: NoticeTone; text: string };

export interface SubagentStep {
  name: string;
  input: Record<string, unknown>;
}

export type NoticeTone = "info" | "dim" | "error" | "warning";

export interface PendingApproval {
  key: number;
  request: ApprovalRequest;
}

export interface TuiState {
  sessionId: string;
  model: string;
  mode: PermissionMode;
  done: Item[];
  live: Item[];
  /** Bumped by /clear so <Static> starts over. */
  epoch: number;
  running: boolean;
  turnStartedAt: number | undefined;
  thinking: boolean;
  /** Whether text streamed since the last assistant_message (non-streaming providers send none). */
  streamed: boolean;
  total: TurnUsage;
  contextTokens: number;
  contextWindow: number;
  todos: TodoItem[];
  approvals: PendingApproval[];
  nextKey: number;
}

export type Action =
  | { type: "event"; event: AgentEvent }
  /** Coalesced text deltas, in arrival order. */
  | { type: "text"; text: string }
  | { type: "turn_start"; at: number }
  | { type: "turn_end" }
  | { type: "notice"; tone: NoticeTone; text: string }
  | { type: "approval_open"; key: number; request: ApprovalRequest }
  | { type: "approval_close"; key: number }
  | { type: "session"; session: CodeSession }
  | { type: "settings"; model?: string; mode?: PermissionMode };

const ZERO: TurnUsage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };

export function initialState(session: CodeSession): TuiState {
  const base: TuiState = {
    sessionId: session.id,
    model: session.model,
    mode: session.mode,
    done: [],
    live: [],
    epoch: 0,
    running: false,
    turnStartedAt: undefined,
    thinking: false,
    streamed: false,
    total: session.total ?? ZERO,
    contextTokens: session.contextTokens,
    contextWindow: session.contextWindow,
    todos: [],
    approvals: [],
    nextKey: 0,
  };
  return itemsFromMessages(base, session.messages);
}

/** Redraws a resumed conversation: its text, and its tool calls with their results. */
function itemsFromMessages(state: TuiState, messages: readonly Message[]): TuiState {
  const results = new Map<string, ToolResultView>();
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type === "tool_result") {
        results.set(block.toolUseId, { content: block.content, isError: block.isError ?? false });
      }
    }
  }
  let next = state;
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type === "text" && block.text.trim() !== "") {
        next =
          message.role === "user"
            ? push(next, { kind: "user", text: block.text })
            : push(next, { kind: "assistant", text: block.text, streaming: false });
      } else if (block.type === "tool_use") {
        const result = results.get(block.id) ?? { content: "", isError: false, summary: "no result" };
        next = push(next, { kind: "tool", id: block.id, name: block.name, input: block.input, result });
      }
    }
  }
  return settle(next);
}

type NewItem = Item extends infer I ? (I extends Item ? Omit<I, "key"> : never) : never;

function isComplete(item: Item): boolean {
  if (item.kind === "assistant") return !item.streaming;
  if (item.kind === "tool") return item.result !== undefined;
  return true;
}

/** Ends a streaming answer: anything pushed after it means its text is complete. */
function closeStreaming(live: Item[]): Item[] {
  const last = live.at(-1);
  if (last?.kind !== "assistant" || !last.streaming) return live;
  if (last.text.trim() === "") return live.slice(0, -1);
  return [...live.slice(0, -1), { ...last, streaming: false }];
}

function push(state: TuiState, item: NewItem): TuiState {
  const live = [...closeStreaming(state.live), { ...item, key: state.nextKey } as Item];
  return settle({ ...state, live, nextKey: state.nextKey + 1 });
}

function settle(state: TuiState): TuiState {
  let count = 0;
  while (count < state.live.length && isComplete(state.live[count]!)) count++;
  if (count === 0) return state;
  return { ...state, done: [...state.done, ...state.live.slice(0, count)], live: state.live.slice(count) };
}

function appendText(state: TuiState, text: string): TuiState {
  const last = state.live.at(-1);
  if (last?.kind === "assistant" && last.streaming) {
    const live = [...state.live.slice(0, -1), { ...last, text: last.text + text }];
    return { ...state, live, streamed: true, thinking: false };
  }
  return { ...push(state, { kind: "assistant", text, streaming: true }), streamed: true, thinking: false };
}

function updateTool(
  state: TuiState,
  id: string,
  update: (item: Extract<Item, { kind: "tool" }>) => Item,
): TuiState {
  const index = state.live.findIndex((item) => item.kind === "tool" && item.id === id);
  if (index === -1) return state;
  const live = [...state.live];
  live[index] = update(live[index] as Extract<Item, { kind: "tool" }>);
  return settle({ ...state, live });
}

function endTurn(state: TuiState): TuiState {
  // Tools still without a result when the turn ends were interrupted; they will not get one.
  const live = closeStreaming(state.live).map((item) =>
    item.kind === "tool" && !item.result
      ? { ...item, result: { content: "", isError: true, summary: "Interrupted" } }
      : item,
  );
  return settle({ ...state, live, running: false, thinking: false, turnStartedAt: undefined });
}

const STOP_NOTES: Partial<Record<string, [NoticeTone, string]>> = {
  interrupted: ["warning", "Interrupted · what should the agent do instead?"],
  max_rounds: ["warning", "Stopped: the maximum number of tool rounds was reached"],
  max_tokens: ["warning", "The answer was cut off at the output token limit"],
  refusal: ["warning", "The model refused to continue"],
  blocked: ["warning", "Stopped by a hook"],
};

function onEvent(state: TuiState, event: AgentEvent): TuiState {
  switch (event.type) {
    case "session":
      return { ...state, sessionId: event.sessionId, model: event.model };
    case "user_message":
      return { ...push(state, { kind: "user", text: event.text }), streamed: false };
    case "text_delta":
      return appendText(state, event.text);
    case "reasoning_delta":
      return state.thinking ? state : { ...state, thinking: true };
    case "tool_call_start":
      if (state.live.some((item) => item.kind === "tool" && item.id === event.id)) return state;
      return push(state, { kind: "tool", id: event.id, name: event.name });
    case "tool_call":
      if (state.live.some((item) => item.kind === "tool" && item.id === event.id)) {
        return updateTool(state, event.id, (item) => ({ ...item, input: event.input }));
      }
      return push(state, { kind: "tool", id: event.id, name: event.name, input: event.input });
    case "permission":
      if (event.decision !== "deny") return state;
      return updateTool(state, event.id, (item) => ({ ...item, denied: event.reason }));
    case "tool_result":
      return updateTool(state, event.id, (item) => ({
        ...item,
        result: {
          content: event.content,
          isError: event.isError,
          summary: event.summary,
          display: event.display,
          durationMs: event.durationMs,
        },
      }));
    case "assistant_message": {
      if (state.streamed) return { ...state, streamed: false };
      const text = event.message.content
        .flatMap((block) => (block.type === "text" ? [block.text] : []))
        .join("");
      return text.trim() === "" ? state : push(state, { kind: "assistant", text, streaming: false });
    }
    case "usage":
      return {
        ...state,
        total: event.total,
        contextTokens: event.contextTokens,
        contextWindow: event.contextWindow,
      };
    case "retry":
      return push(state, {
        kind: "notice",
        tone: "dim",
        text: `retrying in ${formatDelay(event.delayMs)} (${event.reason}) · attempt ${event.attempt}`,
      });
    case "compaction":
      return push(state, {
        kind: "notice",
        tone: "dim",
        text: `Compacted the conversation (${event.method}): ${event.beforeTokens} → ${event.afterTokens} tokens`,
      });
    case "todo":
      return { ...state, todos: event.items };
    case "subagent_step":
      return updateTool(state, event.parentId, (item) => ({
        ...item,
        steps: [...(item.steps ?? []), { name: event.name, input: event.input }],
      }));
    case "error":
      return push(state, { kind: "notice", tone: "error", text: `Error: ${event.message}` });
    case "final": {
      const note = STOP_NOTES[event.stopReason];
      const ended = endTurn({ ...state, total: event.total });
      return note ? push(ended, { kind: "notice", tone: note[0], text: note[1] }) : ended;
    }
  }
}

export function reducer(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case "event":
      return onEvent(state, action.event);
    case "text":
      return appendText(state, action.text);
    case "turn_start":
      return { ...state, running: true, turnStartedAt: action.at };
    case "turn_end":
      return state.running ? endTurn(state) : state;
    case "notice":
      return push(state, { kind: "notice", tone: action.tone, text: action.text });
    case "approval_open":
      return { ...state, approvals: [...state.approvals, { key: action.key, request: action.request }] };
    case "approval_close":
      return { ...state, approvals: state.approvals.filter((pending) => pending.key !== action.key) };
    case "session":
      return { ...initialState(action.session), epoch: state.epoch + 1 };
    case "settings":
      return { ...state, model: action.model ?? state.model, mode: action.mode ?? state.mode };
  }
}
