/**
 * An in-memory CodeSession for the TUI's tests: each submit runs a scripted turn that emits
 * events and may ask for approvals; every call the TUI makes is recorded.
 */
import type {
  AgentEvent,
  ApprovalAnswer,
  ApprovalRequest,
  CodeSession,
  Message,
  PermissionMode,
  SessionSummary,
  TurnUsage,
} from "../../../src/code/types.ts";

export type Script = (turn: FakeTurn) => Promise<void> | void;

export interface FakeTurn {
  prompt: string;
  emit(event: AgentEvent): void;
  ask(request: Partial<ApprovalRequest> & Pick<ApprovalRequest, "tool">): Promise<ApprovalAnswer>;
  /** Resolves when interrupt() is called during this turn. */
  interrupted: Promise<void>;
  /** Emits `final` with the given stop reason and the session's totals. */
  finish(text?: string, stopReason?: Extract<AgentEvent, { type: "final" }>["stopReason"]): void;
}

export interface FakeSessionOptions {
  id?: string;
  model?: string;
  mode?: PermissionMode;
  messages?: Message[];
  models?: string[];
  sessions?: SessionSummary[];
  contextWindow?: number;
  /** One script per submitted prompt, in order; later prompts reuse the last script. */
  scripts?: Script[];
}

export class FakeSession implements CodeSession {
  readonly id: string;
  model: string;
  readonly cwd = "/work/project";
  mode: PermissionMode;
  readonly messages: readonly Message[];
  total: TurnUsage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  contextTokens = 0;
  readonly contextWindow: number;

  readonly prompts: string[] = [];
  readonly answers: ApprovalAnswer[] = [];
  interrupts = 0;
  compactions = 0;
  cleared: FakeSession[] = [];
  readonly modelsSet: string[] = [];
  readonly modesSet: PermissionMode[] = [];

  private readonly listeners = new Set<(event: AgentEvent) => void>();
  private approver: ((request: ApprovalRequest) => Promise<ApprovalAnswer>) | undefined;
  private onInterrupt: (() => void) | undefined;

  constructor(private readonly options: FakeSessionOptions = {}) {
    this.id = options.id ?? "s-1";
    this.model = options.model ?? "anthropic/claude-sonnet-4-5";
    this.mode = options.mode ?? "default";
    this.messages = options.messages ?? [];
    this.contextWindow = options.contextWindow ?? 200_000;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  emit(event: AgentEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  async submit(prompt: string): Promise<void> {
    this.prompts.push(prompt);
    const scripts = this.options.scripts ?? [];
    const script =
      scripts[this.prompts.length - 1] ?? scripts.at(-1) ?? ((turn: FakeTurn) => turn.finish("ok"));
    const interrupted = new Promise<void>((resolve) => {
      this.onInterrupt = resolve;
    });
    this.emit({ type: "user_message", text: prompt });
    const turn: FakeTurn = {
      prompt,
      interrupted,
      emit: (event) => this.emit(event),
      ask: async (request) => {
        if (!this.approver) throw new Error("no approver set");
        const answer = await this.approver({
          toolUseId: "toolu_1",
          ruleName: request.tool,
          input: {},
          suggestedRule: `${request.tool}(*)`,
          reason: "no rule matched",
          ...request,
        });
        this.answers.push(answer);
        return answer;
      },
      finish: (text = "", stopReason = "end_turn") =>
        this.emit({ type: "final", text, stopReason, rounds: 1, total: this.total }),
    };
    await script(turn);
    this.onInterrupt = undefined;
  }

  interrupt(): void {
    this.interrupts++;
    this.onInterrupt?.();
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setApprover(approver: (request: ApprovalRequest) => Promise<ApprovalAnswer>): void {
    this.approver = approver;
  }

  setModel(model: string): void {
    this.modelsSet.push(model);
    this.model = model;
  }

  setMode(mode: PermissionMode): void {
    this.modesSet.push(mode);
    this.mode = mode;
  }

  async compact(): Promise<void> {
    this.compactions++;
    this.emit({ type: "compaction", beforeTokens: 9000, afterTokens: 1200, method: "summary" });
  }

  clear(): CodeSession {
    const next = new FakeSession({ ...this.options, id: `${this.id}-new`, messages: [] });
    this.cleared.push(next);
    return next;
  }

  permissions(): { allow: string[]; deny: string[]; ask: string[]; mode: PermissionMode } {
    return {
      allow: ["Bash(git status:*)", "Read(src/**)"],
      deny: ["Bash(rm -rf:*)"],
      ask: [],
      mode: this.mode,
    };
  }

  listSessions(): SessionSummary[] {
    return this.options.sessions ?? [];
  }

  listModels(): string[] {
    return this.options.models ?? [this.model];
  }
}
