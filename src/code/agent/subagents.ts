/**
 * The `task` tool's subagents: a fresh conversation (saved as a child session) with its own system
 * prompt, a restricted tool set and no `task` tool, run to completion; the parent gets its answer.
 * Permissions and approvals are the parent's, so a subagent can do nothing the parent could not.
 */
import { A3sError } from "../../core/errors.ts";
import type { AgentDefinition } from "../agents.ts";
import type { SubagentRequest, Tool } from "../types.ts";
import { systemPrompt } from "../workspace.ts";
import { type AgentState, emptyUsage, runPrompt } from "./loop.ts";
import type { SessionSetup, SubagentParent } from "./session.ts";

const GENERAL_ROLE = `You are a subagent of a3s code, started by the main agent for one self-contained task.
Work autonomously with your tools: search and read thoroughly, and do what the task asks.
When done, answer with a concise report for the main agent: what you found or did, with exact paths
(path:line) and any remaining problems. The user does not see your messages, only the main agent does.`;

export interface SubagentOptions {
  setup: SessionSetup;
  agents: readonly AgentDefinition[];
  workspace: string;
}

export function subagentRunner(options: SubagentOptions) {
  return (parent: SubagentParent) =>
    async (request: SubagentRequest): Promise<string> => {
      const { setup } = options;
      const definition = request.agent
        ? options.agents.find((agent) => agent.name === request.agent)
        : undefined;
      if (request.agent && !definition) {
        const names = options.agents.map((agent) => agent.name);
        throw new A3sError("usage", `no subagent named '${request.agent}'`, {
          hint: names.length > 0 ? `defined: ${names.join(", ")}` : "define one in .a3s/agents/<name>.md",
        });
      }
      const model = definition?.model ? setup.resolveModel(definition.model) : parent.model;
      const tools = allowedTools(setup.tools, definition);
      const record = setup.store.create({ cwd: setup.cwd, model: model.ref, parentId: parent.id });
      const state: AgentState = {
        sessionId: record.id,
        messages: [],
        total: emptyUsage(),
        contextTokens: 0,
        tokenRatio: 1,
        prunedOutputs: 0,
      };
      const hooks = setup.hooks?.(record.id);
      const final = await runPrompt(
        state,
        request.prompt,
        {
          provider: model.provider,
          model: model.model,
          system: systemPrompt({ workspace: options.workspace, role: definition?.prompt ?? GENERAL_ROLE }),
          toolSpecs: tools.map((tool) => setup.toolSpec(tool)),
          toolCalls: {
            tools: new Map(tools.map((tool) => [tool.name, tool])),
            validate: setup.validate,
            policy: setup.policy,
            ...(hooks ? { hooks } : {}),
            ...(parent.approver ? { approver: parent.approver } : {}),
          },
          toolContext: (signal) => setup.toolContext(signal, record.id),
          store: setup.store,
          maxRounds: setup.maxRounds,
          maxTokens: setup.maxTokens,
          contextWindow: model.contextWindow,
          costOf: model.costOf,
          // The parent shows the task call, each tool the subagent calls under it, and the report; the
          // subagent's text and everything else stay in its own session.
          emit: (event) => {
            if (event.type !== "tool_call" || request.toolUseId === undefined) return;
            parent.emit({
              type: "subagent_step",
              parentId: request.toolUseId,
              name: event.name,
              input: event.input,
            });
          },
        },
        parent.signal,
      );
      if (final.stopReason === "interrupted")
        throw new A3sError("interrupted", "the subagent was interrupted");
      if (final.stopReason === "error")
        throw new A3sError("runtime", `the subagent failed (session ${record.id})`);
      const text = final.text.trim() || "(the subagent finished without a report)";
      return `${text}\n\n[subagent session ${record.id.slice(0, 8)}, ${final.rounds} rounds]`;
    };
}

/** A definition's `tools` list names tools or rule names; without one, everything but `task`. */
function allowedTools(tools: readonly Tool[], definition: AgentDefinition | undefined): Tool[] {
  const usable = tools.filter((tool) => tool.name !== "task");
  if (!definition?.tools) return usable;
  const wanted = new Set(definition.tools);
  return usable.filter((tool) => wanted.has(tool.name) || wanted.has(tool.ruleName));
}
