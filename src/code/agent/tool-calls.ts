/**
 * One round's tool calls: each is validated, shown to PreToolUse hooks, decided by the permission
 * policy (asking the user when it says so), then run. Consecutive read-only calls run together;
 * anything that changes the workspace runs alone, in the order the model asked.
 */
import { isA3sError } from "../../core/errors.ts";
import type {
  AgentEvent,
  ApprovalAnswer,
  ApprovalRequest,
  PermissionDecision,
  Tool,
  ToolContext,
  ToolResult,
  ToolResultBlock,
  ToolUseBlock,
} from "../types.ts";

export interface PreToolOutcome {
  /** A hook blocked the call; the reason goes to the model. */
  blocked?: string;
  /** A hook decided instead of the rules. */
  decision?: PermissionDecision;
  updatedInput?: Record<string, unknown>;
}

export interface ToolHooks {
  preToolUse(name: string, input: Record<string, unknown>): Promise<PreToolOutcome>;
  /** Returns text for the model when a hook objects to the result (exit 2). */
  postToolUse(name: string, input: Record<string, unknown>, result: ToolResult): Promise<string | undefined>;
}

export interface PermissionPolicy {
  decide(tool: Tool, input: Record<string, unknown>): PermissionDecision;
  suggestRule(tool: Tool, input: Record<string, unknown>): string;
  /** "Allow always": effective at once, and persisted where the policy keeps such rules. */
  grant(rule: string): void;
}

export type Approver = (request: ApprovalRequest) => Promise<ApprovalAnswer>;

export type Validated = { ok: true; input: Record<string, unknown> } | { ok: false; error: string };

export interface ToolCallDeps {
  tools: ReadonlyMap<string, Tool>;
  validate(tool: Tool, input: unknown): Validated;
  policy: PermissionPolicy;
  hooks?: ToolHooks;
  approver?: Approver;
  context: ToolContext;
  emit(event: AgentEvent): void;
}

type Prepared =
  | { call: ToolUseBlock; result: ToolResult }
  | { call: ToolUseBlock; tool: Tool; input: Record<string, unknown> };

export async function runToolCalls(
  calls: readonly ToolUseBlock[],
  deps: ToolCallDeps,
): Promise<ToolResultBlock[]> {
  const prepared: Prepared[] = [];
  for (const call of calls) {
    prepared.push(deps.context.signal.aborted ? { call, result: INTERRUPTED } : await prepare(call, deps));
  }
  const results = new Map<string, ToolResultBlock>();
  let index = 0;
  while (index < prepared.length) {
    const batch = [prepared[index] as Prepared];
    if (isParallel(batch[0] as Prepared)) {
      while (
        index + batch.length < prepared.length &&
        isParallel(prepared[index + batch.length] as Prepared)
      ) {
        batch.push(prepared[index + batch.length] as Prepared);
      }
    }
    const done = await Promise.all(batch.map((item) => execute(item, deps)));
    for (const block of done) results.set(block.toolUseId, block);
    index += batch.length;
  }
  return calls.map((call) => results.get(call.id) as ToolResultBlock);
}

const INTERRUPTED: ToolResult = { content: "Interrupted by the user before this tool ran.", isError: true };

function isParallel(item: Prepared): boolean {
  return "tool" in item && item.tool.readOnly;
}

async function prepare(call: ToolUseBlock, deps: ToolCallDeps): Promise<Prepared> {
  const tool = deps.tools.get(call.name);
  if (!tool) {
    const names = [...deps.tools.keys()].join(", ");
    return {
      call,
      result: { content: `Unknown tool '${call.name}'. Available tools: ${names}.`, isError: true },
    };
  }
  let checked = deps.validate(tool, call.input);
  if (!checked.ok) return { call, result: { content: checked.error, isError: true } };

  // Hooks match on the rule name ("Bash", "Edit|Write"), so Claude Code's hook settings work as is.
  const hook = deps.hooks ? await deps.hooks.preToolUse(tool.ruleName, checked.input) : {};
  if (hook.blocked !== undefined) {
    deps.emit({
      type: "permission",
      id: call.id,
      name: call.name,
      decision: "deny",
      reason: "PreToolUse hook",
    });
    return { call, result: { content: `Blocked by a PreToolUse hook: ${hook.blocked}`, isError: true } };
  }
  if (hook.updatedInput) {
    checked = deps.validate(tool, hook.updatedInput);
    if (!checked.ok)
      return { call, result: { content: `A hook rewrote the input: ${checked.error}`, isError: true } };
  }
  const input = checked.input;

  let decision = hook.decision ?? deps.policy.decide(tool, input);
  if (decision.behavior === "ask") decision = await ask(call, tool, input, decision, deps);
  deps.emit({
    type: "permission",
    id: call.id,
    name: call.name,
    decision: decision.behavior,
    reason: decision.reason,
  });
  if (decision.behavior === "deny") {
    return { call, result: { content: `Permission denied (${decision.reason}).`, isError: true } };
  }
  return { call, tool, input };
}

async function ask(
  call: ToolUseBlock,
  tool: Tool,
  input: Record<string, unknown>,
  decision: PermissionDecision,
  deps: ToolCallDeps,
): Promise<PermissionDecision> {
  const suggestedRule = deps.policy.suggestRule(tool, input);
  if (!deps.approver) {
    return {
      behavior: "deny",
      reason: `${decision.reason}; nobody can approve it here — grant it with --allow '${suggestedRule}'`,
    };
  }
  const answer = await deps.approver({
    toolUseId: call.id,
    tool: tool.name,
    ruleName: tool.ruleName,
    input,
    suggestedRule,
    reason: decision.reason,
  });
  switch (answer.kind) {
    case "allow_once":
      return { behavior: "allow", reason: "approved by the user" };
    case "allow_always":
      deps.policy.grant(answer.rule);
      return { behavior: "allow", reason: `approved by the user, always: ${answer.rule}` };
    case "deny":
      return {
        behavior: "deny",
        reason: answer.message
          ? `the user said no: ${answer.message}`
          : "the user said no; ask what to do differently",
      };
  }
}

async function execute(item: Prepared, deps: ToolCallDeps): Promise<ToolResultBlock> {
  const started = performance.now();
  let result: ToolResult;
  if ("result" in item) {
    result = item.result;
  } else if (deps.context.signal.aborted) {
    result = INTERRUPTED;
  } else {
    result = await runOne(item.tool, item.input, item.call.id, deps);
    const feedback = deps.hooks
      ? await deps.hooks.postToolUse(item.tool.ruleName, item.input, result)
      : undefined;
    if (feedback !== undefined)
      result = { ...result, content: `${result.content}\n\nPostToolUse hook: ${feedback}` };
  }
  deps.emit({
    type: "tool_result",
    id: item.call.id,
    name: item.call.name,
    content: result.content,
    isError: result.isError === true,
    ...(result.summary === undefined ? {} : { summary: result.summary }),
    ...(result.display === undefined ? {} : { display: result.display }),
    durationMs: Math.round(performance.now() - started),
  });
  if (result.display?.kind === "todo") deps.emit({ type: "todo", items: result.display.items });
  return {
    type: "tool_result",
    toolUseId: item.call.id,
    content: result.content,
    ...(result.isError ? { isError: true } : {}),
  };
}

async function runOne(
  tool: Tool,
  input: Record<string, unknown>,
  toolUseId: string,
  deps: ToolCallDeps,
): Promise<ToolResult> {
  try {
    return await tool.run(input, { ...deps.context, toolUseId });
  } catch (err) {
    if (deps.context.signal.aborted)
      return { content: "Interrupted by the user while running.", isError: true };
    // Tools report expected failures as results; a thrown error is still the model's to handle.
    const message = isA3sError(err) ? err.message : err instanceof Error ? err.message : String(err);
    return { content: `Error: ${message}`, isError: true, summary: message };
  }
}
