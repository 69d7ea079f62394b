/**
 * Hooks as Claude Code runs them: per event, matchers select shell commands; each runs under
 * `bash -c` in the project directory with the event as JSON on stdin. Exit 0 succeeds (stdout may
 * be a JSON decision), exit 2 blocks (stderr goes back to the model or the user), any other status
 * is a reported, non-blocking error. The hooks of one event run in parallel; a block from any wins.
 */
import type { HOOK_EVENTS } from "../core/config.ts";
import { type RawResult, runCommand } from "./hook-command.ts";
import type { Hooks } from "./settings.ts";
import type { PermissionMode } from "./types.ts";

export type HookEvent = (typeof HOOK_EVENTS)[number];

export interface HookRunnerOptions {
  hooks: Hooks;
  /** Where hooks run; also `A3S_PROJECT_DIR` / `CLAUDE_PROJECT_DIR`. */
  projectDir: string;
  sessionId: string;
  transcriptPath?: string;
  env: NodeJS.ProcessEnv;
  /** The `cwd` field of the payload; the project directory by default. */
  cwd?: string;
  permissionMode?: () => PermissionMode;
  /** Aborting kills running hooks. */
  signal?: AbortSignal;
}

/** A hook that failed without blocking (exit status other than 0 and 2, timeout, bad matcher). */
export interface HookProblem {
  command: string;
  message: string;
}

export interface HookOutcome {
  /** How many hook commands ran. */
  ran: number;
  /** Non-blocking failures, for the user to see; execution continues. */
  errors: HookProblem[];
  /** `systemMessage` fields: shown to the user, not to the model. */
  messages: string[];
  /** A hook answered `{"continue": false}`: the agent stops after this step, with this reason for the user. */
  stop?: string;
}

export interface PreToolUseOutcome extends HookOutcome {
  /** Absent when no hook decided: the permission rules decide. */
  decision?: "allow" | "deny" | "ask";
  reason?: string;
  /** The tool input to use instead of the model's. */
  updatedInput?: Record<string, unknown>;
  additionalContext?: string;
}

export interface PostToolUseOutcome extends HookOutcome {
  /** Fed back to the model with the tool result (exit 2's stderr or a `decision: "block"` reason). */
  feedback?: string;
  additionalContext?: string;
}

export interface UserPromptSubmitOutcome extends HookOutcome {
  /** The prompt is refused; this is shown to the user and the prompt never reaches the model. */
  blocked?: string;
  /** Added to the model's context with the prompt. */
  additionalContext?: string;
}

export interface SessionStartOutcome extends HookOutcome {
  additionalContext?: string;
}

export interface StopOutcome extends HookOutcome {
  /** The agent must not stop: it continues with this as the next user message. */
  continueWith?: string;
}

const DEFAULT_TIMEOUT_S = 60;
/** A Stop hook that always blocks would loop forever; after this many blocks in a row the agent stops anyway. */
const MAX_STOP_BLOCKS = 8;

export class HookRunner {
  readonly #options: HookRunnerOptions;
  #stopBlocks = 0;

  constructor(options: HookRunnerOptions) {
    this.#options = options;
  }

  /** Whether any hook is configured for `event` (lets callers skip building payloads). */
  has(event: HookEvent): boolean {
    return (this.#options.hooks[event]?.length ?? 0) > 0;
  }

  async preToolUse(
    toolName: string,
    toolInput: Record<string, unknown>,
    toolUseId?: string,
  ): Promise<PreToolUseOutcome> {
    const payload = {
      tool_name: toolName,
      tool_input: toolInput,
      ...(toolUseId ? { tool_use_id: toolUseId } : {}),
    };
    const { outcome, results } = await this.#run("PreToolUse", toolName, payload);
    const decisions: Record<"allow" | "deny" | "ask", string[]> = { allow: [], deny: [], ask: [] };
    const contexts: string[] = [];
    let updatedInput: Record<string, unknown> | undefined;
    for (const result of results) {
      if (result.exitCode === 2) {
        decisions.deny.push(result.stderr.trim() || `blocked by hook: ${result.command}`);
        continue;
      }
      const json = this.#successJson(result, outcome);
      if (json === undefined) continue;
      const specific = objectAt(json, "hookSpecificOutput");
      const legacy = json.decision === "approve" ? "allow" : json.decision === "block" ? "deny" : undefined;
      const decision = specific?.permissionDecision ?? legacy;
      const reason = stringAt(specific, "permissionDecisionReason") ?? stringAt(json, "reason");
      if (decision === "allow" || decision === "deny" || decision === "ask") {
        decisions[decision].push(reason ?? `${decision} by hook: ${result.command}`);
      }
      const input = objectAt(specific, "updatedInput");
      if (input !== undefined) updatedInput = { ...(updatedInput ?? {}), ...input };
      const context = stringAt(specific, "additionalContext");
      if (context !== undefined) contexts.push(context);
    }
    const decision = (["deny", "ask", "allow"] as const).find((kind) => decisions[kind].length > 0);
    return {
      ...outcome,
      ...(decision === undefined ? {} : { decision, reason: decisions[decision].join("\n") }),
      ...(updatedInput === undefined || decision === "deny" ? {} : { updatedInput }),
      ...joined("additionalContext", contexts),
    };
  }

  async postToolUse(
    toolName: string,
    toolInput: Record<string, unknown>,
    toolResponse: unknown,
    toolUseId?: string,
  ): Promise<PostToolUseOutcome> {
    const payload = {
      tool_name: toolName,
      tool_input: toolInput,
      tool_response: toolResponse,
      ...(toolUseId ? { tool_use_id: toolUseId } : {}),
    };
    const { outcome, results } = await this.#run("PostToolUse", toolName, payload);
    const feedback: string[] = [];
    const contexts: string[] = [];
    for (const result of results) {
      if (result.exitCode === 2) {
        feedback.push(result.stderr.trim() || `hook reported a problem: ${result.command}`);
        continue;
      }
      const json = this.#successJson(result, outcome);
      if (json === undefined) continue;
      if (json.decision === "block")
        feedback.push(stringAt(json, "reason") ?? `blocked by hook: ${result.command}`);
      const context = stringAt(objectAt(json, "hookSpecificOutput"), "additionalContext");
      if (context !== undefined) contexts.push(context);
    }
    return { ...outcome, ...joined("feedback", feedback), ...joined("additionalContext", contexts) };
  }

  async userPromptSubmit(prompt: string): Promise<UserPromptSubmitOutcome> {
    const { outcome, results } = await this.#run("UserPromptSubmit", undefined, { prompt });
    const blocked: string[] = [];
    const contexts = this.#contexts(results, outcome, (result, json) => {
      if (result.exitCode === 2)
        blocked.push(result.stderr.trim() || `prompt blocked by hook: ${result.command}`);
      else if (json?.decision === "block") {
        blocked.push(stringAt(json, "reason") ?? `prompt blocked by hook: ${result.command}`);
      }
    });
    return { ...outcome, ...joined("blocked", blocked), ...joined("additionalContext", contexts) };
  }

  /** `source`: "startup", "resume", "clear" or "compact" (SessionStart matchers match it). */
  async sessionStart(source: string): Promise<SessionStartOutcome> {
    const { outcome, results } = await this.#run("SessionStart", source, { source });
    const contexts = this.#contexts(results, outcome, (result) => {
      if (result.exitCode === 2) {
        outcome.errors.push({ command: result.command, message: result.stderr.trim() || "exit status 2" });
      }
    });
    return { ...outcome, ...joined("additionalContext", contexts) };
  }

  /** `active`: the agent is already continuing because of a Stop hook (`stop_hook_active`). */
  async stop(active: boolean): Promise<StopOutcome> {
    if (!active) this.#stopBlocks = 0;
    const { outcome, results } = await this.#run("Stop", undefined, { stop_hook_active: active });
    const reasons: string[] = [];
    for (const result of results) {
      if (result.exitCode === 2) {
        reasons.push(result.stderr.trim() || `a Stop hook asked to continue: ${result.command}`);
        continue;
      }
      const json = this.#successJson(result, outcome);
      if (json?.decision === "block") {
        reasons.push(stringAt(json, "reason") ?? `a Stop hook asked to continue: ${result.command}`);
      }
    }
    if (reasons.length === 0 || outcome.stop !== undefined) return outcome;
    this.#stopBlocks++;
    if (this.#stopBlocks > MAX_STOP_BLOCKS) {
      outcome.errors.push({
        command: "Stop",
        message: `Stop hooks blocked ${MAX_STOP_BLOCKS} times in a row; stopping anyway`,
      });
      return outcome;
    }
    return { ...outcome, continueWith: reasons.join("\n") };
  }

  /** Context from plain stdout or `additionalContext`, after `inspect` saw each result for blocks. */
  #contexts(
    results: RawResult[],
    outcome: HookOutcome,
    inspect: (result: RawResult, json: Record<string, unknown> | undefined) => void,
  ): string[] {
    const contexts: string[] = [];
    for (const result of results) {
      if (result.exitCode !== 0) {
        inspect(result, undefined);
        continue;
      }
      const json = this.#successJson(result, outcome);
      inspect(result, json);
      if (json === undefined) {
        if (result.stdout.trim() !== "") contexts.push(result.stdout.trim());
        continue;
      }
      const context = stringAt(objectAt(json, "hookSpecificOutput"), "additionalContext");
      if (context !== undefined) contexts.push(context);
    }
    return contexts;
  }

  /** The JSON answer of a successful hook (common fields applied to `outcome`); undefined for plain text. */
  #successJson(result: RawResult, outcome: HookOutcome): Record<string, unknown> | undefined {
    if (result.exitCode !== 0) return undefined;
    const text = result.stdout.trim();
    if (!text.startsWith("{")) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      outcome.errors.push({ command: result.command, message: "stdout looks like JSON but does not parse" });
      return undefined;
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined;
    const answer = json as Record<string, unknown>;
    if (answer.continue === false)
      outcome.stop ??= stringAt(answer, "stopReason") ?? `stopped by hook: ${result.command}`;
    const message = stringAt(answer, "systemMessage");
    if (message !== undefined) outcome.messages.push(message);
    return answer;
  }

  async #run(
    event: HookEvent,
    subject: string | undefined,
    fields: Record<string, unknown>,
  ): Promise<{ outcome: HookOutcome; results: RawResult[] }> {
    const outcome: HookOutcome = { ran: 0, errors: [], messages: [] };
    const selected = new Map<string, number>();
    for (const group of this.#options.hooks[event] ?? []) {
      // Only tool events and SessionStart have something to match; the others run every hook.
      const matcher = subject === undefined ? undefined : group.matcher;
      const accepted = matcherAccepts(matcher, subject ?? "");
      if (accepted === "invalid") {
        outcome.errors.push({
          command: `matcher ${group.matcher}`,
          message: "not a valid regular expression",
        });
        continue;
      }
      if (!accepted) continue;
      // The same command configured twice (user and project settings) runs once.
      for (const hook of group.hooks) {
        if (!selected.has(hook.command)) selected.set(hook.command, hook.timeout ?? DEFAULT_TIMEOUT_S);
      }
    }
    if (selected.size === 0) return { outcome, results: [] };
    const options = this.#options;
    const payload = JSON.stringify({
      session_id: options.sessionId,
      transcript_path: options.transcriptPath ?? "",
      cwd: options.cwd ?? options.projectDir,
      hook_event_name: event,
      ...(options.permissionMode ? { permission_mode: options.permissionMode() } : {}),
      ...fields,
    });
    const results = await Promise.all(
      [...selected].map(([command, timeout]) =>
        runCommand(command, timeout, payload, {
          cwd: options.projectDir,
          env: {
            ...options.env,
            A3S_PROJECT_DIR: options.projectDir,
            CLAUDE_PROJECT_DIR: options.projectDir,
          },
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      ),
    );
    outcome.ran = results.length;
    for (const result of results) {
      if (result.failure !== undefined) {
        outcome.errors.push({ command: result.command, message: result.failure });
      } else if (result.exitCode !== 0 && result.exitCode !== 2) {
        const detail = result.stderr.trim();
        outcome.errors.push({
          command: result.command,
          message: `exit status ${result.exitCode}${detail ? `: ${detail}` : ""}`,
        });
      }
    }
    return { outcome, results: results.filter((result) => result.failure === undefined) };
  }
}

/** Claude Code's matcher rules: empty or `*` matches all, `A|B` lists exact names, anything else is a regex. */
function matcherAccepts(matcher: string | undefined, value: string): boolean | "invalid" {
  if (matcher === undefined || matcher === "" || matcher === "*") return true;
  if (/^[A-Za-z0-9_|]+$/.test(matcher)) return matcher.split("|").includes(value);
  try {
    return new RegExp(matcher).test(value);
  } catch {
    return "invalid";
  }
}

function objectAt(
  value: Record<string, unknown> | undefined,
  key: string,
): Record<string, unknown> | undefined {
  const found = value?.[key];
  return found !== null && typeof found === "object" && !Array.isArray(found)
    ? (found as Record<string, unknown>)
    : undefined;
}

function stringAt(value: Record<string, unknown> | undefined, key: string): string | undefined {
  const found = value?.[key];
  return typeof found === "string" && found.trim() !== "" ? found : undefined;
}

function joined<K extends string>(key: K, items: string[]): Partial<Record<K, string>> {
  return items.length === 0 ? {} : ({ [key]: items.join("\n\n") } as Record<K, string>);
}
