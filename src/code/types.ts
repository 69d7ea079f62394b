/**
 * The contracts the coding agent's parts agree on: conversation messages (provider-neutral),
 * the provider stream, tools, and the one event stream the TUI and headless mode both render.
 */
import type { z } from "zod";

// ---------------------------------------------------------------------------------------------
// Conversation

export interface TextBlock {
  type: "text";
  text: string;
}

export interface ToolUseBlock {
  type: "tool_use";
  /** The provider's call id (Anthropic `toolu_…`, OpenAI `call_…`); results refer to it. */
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface ToolResultBlock {
  type: "tool_result";
  toolUseId: string;
  content: string;
  isError?: boolean;
}

export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock;

/** Tool results travel in user messages, as in Anthropic's Messages API; the OpenAI adapter splits them. */
export interface Message {
  role: "user" | "assistant";
  content: ContentBlock[];
}

// ---------------------------------------------------------------------------------------------
// Providers

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the input object. */
  inputSchema: Record<string, unknown>;
}

export interface ChatRequest {
  model: string;
  system: string;
  messages: readonly Message[];
  tools: readonly ToolSpec[];
  maxTokens?: number;
  temperature?: number;
  signal?: AbortSignal;
}

export type StopReason = "end_turn" | "tool_use" | "max_tokens" | "stop_sequence" | "refusal";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Anthropic prompt caching; OpenAI's cached prompt tokens land in cacheReadTokens. */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/**
 * What a provider yields while one response streams. Tool calls are yielded whole, once their
 * arguments are complete (the providers assemble the deltas); `stop` is always the last event.
 */
export type ProviderEvent =
  | { type: "text_delta"; text: string }
  | { type: "reasoning_delta"; text: string }
  /** A tool call began streaming (name known, arguments not yet): lets the TUI show it early. */
  | { type: "tool_call_start"; id: string; name: string }
  | { type: "tool_call"; id: string; name: string; input: Record<string, unknown> }
  | { type: "usage"; usage: Usage }
  | { type: "retry"; attempt: number; delayMs: number; reason: string }
  | { type: "stop"; reason: StopReason };

export interface Provider {
  /** The configured provider name ("anthropic", "local", …). */
  readonly name: string;
  /**
   * Streams one model response. Retries 429/5xx (honouring retry-after) before the first event,
   * yielding `retry` events; throws A3sError (network, permission for 401/403, usage for 400,
   * interrupted when `signal` aborts).
   */
  stream(request: ChatRequest): AsyncIterable<ProviderEvent>;
}

// ---------------------------------------------------------------------------------------------
// Tools

export interface TodoItem {
  content: string;
  status: "pending" | "in_progress" | "completed";
}

/** Extra rendering the TUI may show under a tool call; the model only ever sees `content`. */
export type ToolDisplay = { kind: "diff"; path: string; diff: string } | { kind: "todo"; items: TodoItem[] };

export interface ToolResult {
  /** What the model receives. */
  content: string;
  isError?: boolean;
  /** One line for the collapsed view in the TUI ("Read 120 lines", "exit 1 after 2.1 s"). */
  summary?: string;
  display?: ToolDisplay;
}

export interface ToolContext {
  /** The workspace root; relative paths resolve against it and tools stay inside it. */
  cwd: string;
  /** Directories outside the workspace that tools may still touch (`--add-dir`). */
  extraDirs: readonly string[];
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** A3S_HOME paths and config, for tools that use other subsystems (web_search, cron, box). */
  home: { paths: import("../core/paths.ts").Paths; config: import("../core/config.ts").Config };
  /** Runs `bash` commands inside this a3s box image instead of on the host (`--sandbox`). */
  sandboxImage?: string;
  /** Session-scoped state shared between calls (the todo list). */
  state: Map<string, unknown>;
  /** Runs a subagent for the `task` tool; absent inside subagents (no recursion). */
  runSubagent?: (request: SubagentRequest) => Promise<string>;
  /** The id of the tool call being run, which events about its progress refer to. */
  toolUseId?: string;
}

export interface SubagentRequest {
  description: string;
  prompt: string;
  /** A defined agent's name (.a3s/agents/<name>.md) or undefined for the general one. */
  agent?: string;
  /** The `task` call that starts it; its steps are reported under that id. */
  toolUseId?: string;
}

export interface Tool<Input = Record<string, unknown>> {
  /** What the model calls ("read", "bash", "mcp__github__search"). */
  readonly name: string;
  /** The name permission rules use ("Read", "Bash", "Edit", "mcp__github__search"). */
  readonly ruleName: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  /**
   * The JSON Schema sent to the model; derived from `input` when absent. MCP tools set it from
   * the server's schema (their `input` then accepts any object and the server validates).
   */
  readonly inputSchema?: Record<string, unknown>;
  /** Read-only tools run without asking by default and may run in parallel with each other. */
  readonly readOnly: boolean;
  /**
   * The string a rule's pattern is matched against: the command for Bash, the path relative to the
   * workspace for file tools, the URL's host for web_fetch ("domain:example.com"); undefined
   * when the tool has none (a bare rule then matches).
   */
  ruleSubject(input: Input, ctx: Pick<ToolContext, "cwd">): string | undefined;
  run(input: Input, ctx: ToolContext): Promise<ToolResult>;
}

// ---------------------------------------------------------------------------------------------
// Permissions

export type PermissionMode = "default" | "accept-edits" | "plan" | "yolo";

export type PermissionBehavior = "allow" | "deny" | "ask";

export interface PermissionDecision {
  behavior: PermissionBehavior;
  /** The rule that decided ("Bash(git status:*)"), or why no rule did ("read-only tool", "plan mode"). */
  reason: string;
}

/** What the user answers to an "ask". */
export type ApprovalAnswer =
  | { kind: "allow_once" }
  /** Persisted to the project's .a3s/settings.json as an allow rule. */
  | { kind: "allow_always"; rule: string }
  | { kind: "deny"; message?: string };

export interface ApprovalRequest {
  toolUseId: string;
  tool: string;
  ruleName: string;
  input: Record<string, unknown>;
  /** The rule "allow always" would add ("Bash(npm test:*)", "Edit(src/**)"). */
  suggestedRule: string;
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// The agent's event stream (rendered by the TUI, printed as JSON Lines by `code run --json`)

export interface TurnUsage extends Usage {
  costUsd: number;
}

export type AgentEvent =
  | { type: "session"; sessionId: string; model: string; cwd: string; resumed: boolean }
  | { type: "user_message"; text: string }
  | { type: "text_delta"; text: string }
  | { type: "reasoning_delta"; text: string }
  | { type: "tool_call_start"; id: string; name: string }
  | { type: "tool_call"; id: string; name: string; input: Record<string, unknown> }
  | { type: "permission"; id: string; name: string; decision: PermissionBehavior; reason: string }
  | {
      type: "tool_result";
      id: string;
      name: string;
      content: string;
      isError: boolean;
      summary?: string;
      display?: ToolDisplay;
      durationMs: number;
    }
  | { type: "assistant_message"; message: Message }
  | { type: "usage"; turn: TurnUsage; total: TurnUsage; contextTokens: number; contextWindow: number }
  | { type: "retry"; attempt: number; delayMs: number; reason: string }
  | { type: "compaction"; beforeTokens: number; afterTokens: number; method: "prune" | "summary" }
  | { type: "todo"; items: TodoItem[] }
  /** A tool call a subagent makes, under the `task` call (`parentId`) that started it. */
  | { type: "subagent_step"; parentId: string; name: string; input: Record<string, unknown> }
  | { type: "error"; code: string; message: string }
  | {
      type: "final";
      text: string;
      stopReason: StopReason | "max_rounds" | "interrupted" | "error" | "blocked";
      rounds: number;
      total: TurnUsage;
    };

// ---------------------------------------------------------------------------------------------
// What the TUI drives (one open conversation); headless mode uses the same object.

/** A type (not an interface) so rows fit Record<string, unknown> for --format templates. */
export type SessionSummary = {
  id: string;
  title: string;
  cwd: string;
  model: string;
  createdAt: string;
  updatedAt: string;
  messages: number;
  costUsd: number;
};

export interface CodeSession {
  readonly id: string;
  /** "provider/model". */
  readonly model: string;
  readonly cwd: string;
  readonly mode: PermissionMode;
  /** Messages so far (for redrawing a resumed session). */
  readonly messages: readonly Message[];
  readonly total: TurnUsage;
  readonly contextTokens: number;
  readonly contextWindow: number;
  /** Runs one user prompt until the model stops; events arrive through subscribe(). */
  submit(prompt: string): Promise<void>;
  /** Stops the running prompt (Esc / SIGINT); the session stays consistent and resumable. */
  interrupt(): void;
  subscribe(listener: (event: AgentEvent) => void): () => void;
  /** Called for every "ask" decision; the TUI shows its dialog, headless denies. */
  setApprover(approver: (request: ApprovalRequest) => Promise<ApprovalAnswer>): void;
  setModel(model: string): void;
  setMode(mode: PermissionMode): void;
  compact(): Promise<void>;
  /** Starts a new session in the same workspace (the old one stays saved). */
  clear(): CodeSession;
  /** The effective rules, for /permissions. */
  permissions(): { allow: string[]; deny: string[]; ask: string[]; mode: PermissionMode };
  listSessions(): SessionSummary[];
  /** Models offered by /model ("provider/model"). */
  listModels(): string[];
}
