/**
 * One open conversation (`CodeSession`): owns the loop's state, serialises prompts, fans events
 * out to the TUI or the headless printer, and switches models, modes and sessions on request.
 */
import { A3sError } from "../../core/errors.ts";
import type { SessionRecord, SessionStore } from "../sessions.ts";
import type {
  AgentEvent,
  ApprovalAnswer,
  ApprovalRequest,
  CodeSession,
  Message,
  PermissionMode,
  Provider,
  SessionSummary,
  Tool,
  ToolContext,
  ToolSpec,
  TurnUsage,
  Usage,
} from "../types.ts";
import { type AgentState, compactInto, emptyUsage, type LoopHooks, runPrompt } from "./loop.ts";
import type { PermissionPolicy, Validated } from "./tool-calls.ts";

/** A model ready to talk to: the provider, its model id, and what it costs and holds. */
export interface ResolvedModel {
  /** "provider/model" as the user writes it. */
  ref: string;
  provider: Provider;
  model: string;
  contextWindow: number;
  costOf(usage: Usage): number;
}

/** The policy as the session sees it: decisions plus what /permissions shows and mode changes. */
export interface SessionPolicy extends PermissionPolicy {
  mode: PermissionMode;
  rules(): { allow: string[]; deny: string[]; ask: string[] };
}

export interface SessionSetup {
  store: SessionStore;
  cwd: string;
  resolveModel(ref: string): ResolvedModel;
  listModels(): string[];
  tools: readonly Tool[];
  toolSpec(tool: Tool): ToolSpec;
  validate(tool: Tool, input: unknown): Validated;
  policy: SessionPolicy;
  /** Hooks see the session id, so they are made per session. */
  hooks?: (sessionId: string) => LoopHooks;
  system: string;
  toolContext(signal: AbortSignal, sessionId: string): ToolContext;
  /** What the `task` tool starts; absent inside subagents, which cannot start their own. */
  subagents?: (parent: SubagentParent) => NonNullable<ToolContext["runSubagent"]>;
  maxRounds: number;
  maxTokens: number;
}

export interface SubagentParent {
  id: string;
  model: ResolvedModel;
  approver: ((request: ApprovalRequest) => Promise<ApprovalAnswer>) | undefined;
  signal: AbortSignal;
  /** The parent's event stream, where a subagent's steps are shown under its task call. */
  emit: (event: AgentEvent) => void;
}

export class AgentSession implements CodeSession {
  private readonly listeners = new Set<(event: AgentEvent) => void>();
  private readonly state: AgentState;
  private resolved: ResolvedModel;
  private approver: ((request: ApprovalRequest) => Promise<ApprovalAnswer>) | undefined;
  private running: AbortController | undefined;
  private queue: Promise<void> = Promise.resolve();
  private announced = false;

  constructor(
    private readonly setup: SessionSetup,
    private readonly record: SessionRecord,
    private readonly resumed: boolean,
  ) {
    this.resolved = setup.resolveModel(record.model);
    this.state = {
      sessionId: record.id,
      messages: setup.store.conversation(record.id),
      total: resumed ? { ...record.usage } : emptyUsage(),
      contextTokens: 0,
      tokenRatio: 1,
      prunedOutputs: 0,
    };
  }

  get id(): string {
    return this.record.id;
  }
  get model(): string {
    return this.resolved.ref;
  }
  get cwd(): string {
    return this.setup.cwd;
  }
  get mode(): PermissionMode {
    return this.setup.policy.mode;
  }
  get messages(): readonly Message[] {
    return this.state.messages;
  }
  get total(): TurnUsage {
    return { ...this.state.total };
  }
  get contextTokens(): number {
    return this.state.contextTokens;
  }
  get contextWindow(): number {
    return this.resolved.contextWindow;
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setApprover(approver: (request: ApprovalRequest) => Promise<ApprovalAnswer>): void {
    this.approver = approver;
  }

  /** Prompts submitted while one runs wait their turn, in order. */
  submit(prompt: string): Promise<void> {
    const run = this.queue.then(() => this.run(prompt));
    this.queue = run.catch(() => undefined);
    return run;
  }

  interrupt(): void {
    this.running?.abort();
  }

  setModel(ref: string): void {
    this.resolved = this.setup.resolveModel(ref);
    this.setup.store.setModel(this.record.id, this.resolved.ref);
  }

  setMode(mode: PermissionMode): void {
    this.setup.policy.mode = mode;
  }

  /** `/compact`: the whole conversation so far becomes one summary. */
  async compact(): Promise<void> {
    if (this.state.messages.length === 0) throw new A3sError("usage", "nothing to compact yet");
    const controller = new AbortController();
    this.running = controller;
    try {
      await compactInto(
        this.state,
        { ...this.resolved, system: this.setup.system, store: this.setup.store, emit: (e) => this.emit(e) },
        this.state.messages.length,
        controller.signal,
      );
    } finally {
      this.running = undefined;
    }
  }

  clear(): CodeSession {
    const record = this.setup.store.create({ cwd: this.setup.cwd, model: this.resolved.ref });
    const next = new AgentSession(this.setup, record, false);
    for (const listener of this.listeners) next.subscribe(listener);
    if (this.approver) next.setApprover(this.approver);
    return next;
  }

  permissions(): { allow: string[]; deny: string[]; ask: string[]; mode: PermissionMode } {
    return { ...this.setup.policy.rules(), mode: this.setup.policy.mode };
  }

  listSessions(): SessionSummary[] {
    return this.setup.store.list({ cwd: this.setup.cwd, limit: 50 });
  }

  listModels(): string[] {
    return this.setup.listModels();
  }

  private emit(event: AgentEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async run(prompt: string): Promise<void> {
    if (!this.announced) {
      this.announced = true;
      this.emit({
        type: "session",
        sessionId: this.id,
        model: this.model,
        cwd: this.cwd,
        resumed: this.resumed,
      });
    }
    const controller = new AbortController();
    this.running = controller;
    const { setup, resolved } = this;
    const hooks = setup.hooks?.(this.id);
    try {
      await runPrompt(
        this.state,
        prompt,
        {
          provider: resolved.provider,
          model: resolved.model,
          system: setup.system,
          toolSpecs: setup.tools.map((tool) => setup.toolSpec(tool)),
          toolCalls: {
            tools: new Map(setup.tools.map((tool) => [tool.name, tool])),
            validate: setup.validate,
            policy: setup.policy,
            ...(hooks ? { hooks } : {}),
            ...(this.approver ? { approver: this.approver } : {}),
          },
          toolContext: (signal) => {
            const context = setup.toolContext(signal, this.id);
            if (!setup.subagents) return context;
            const parent = {
              id: this.id,
              model: resolved,
              approver: this.approver,
              signal,
              emit: (event: AgentEvent) => this.emit(event),
            };
            return { ...context, runSubagent: setup.subagents(parent) };
          },
          store: setup.store,
          ...(hooks ? { hooks } : {}),
          maxRounds: setup.maxRounds,
          maxTokens: setup.maxTokens,
          contextWindow: resolved.contextWindow,
          costOf: resolved.costOf,
          emit: (event) => this.emit(event),
        },
        controller.signal,
      );
    } finally {
      this.running = undefined;
    }
  }
}
