/**
 * The task tool: hands a self-contained job to a subagent with its own context and tool set, and
 * returns the subagent's final report. It is read-only as far as permissions go: it changes nothing
 * itself, and every tool call the subagent makes passes the same permission checks as the parent's
 * (so plan mode still blocks a subagent's edits). That also lets independent tasks run in parallel.
 */
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { Tool, ToolContext, ToolResult } from "../types.ts";
import { defineTool } from "./tool.ts";

const input = z.object({
  description: z.string().min(1).describe("The task in 3-5 words, shown to the user"),
  prompt: z
    .string()
    .min(1)
    .describe(
      "Everything the subagent needs: the goal, the context, what to return. It cannot see this conversation",
    ),
  subagent_type: z.string().optional().describe("A defined agent to use; omit for the general-purpose agent"),
});

type Input = z.infer<typeof input>;

export interface AgentInfo {
  name: string;
  description: string;
}

function describeTool(agents: readonly AgentInfo[]): string {
  const known =
    agents.length === 0
      ? ""
      : `\n\nAgents for subagent_type:\n${agents.map((agent) => `- ${agent.name}: ${agent.description}`).join("\n")}`;
  return `Starts a subagent for a self-contained task; it works with its own context and tools and returns one final report.

- Use it for open-ended searches across a codebase, research that needs many reads, or an independent subtask whose details you do not need to keep.
- The subagent sees nothing of this conversation: the prompt must say everything, including what to return (e.g. file paths and line numbers).
- Start several in one response when the tasks are independent; they run at the same time.
- Its report is for you, not the user: summarise what matters in your answer.
- For reading one known file or a simple grep, call those tools directly instead.${known}`;
}

async function runTask(value: Input, ctx: ToolContext): Promise<ToolResult> {
  if (ctx.runSubagent === undefined) throw new A3sError("usage", "subagents cannot start subagents");
  const report = await ctx.runSubagent({
    description: value.description,
    prompt: value.prompt,
    ...(value.subagent_type !== undefined ? { agent: value.subagent_type } : {}),
    ...(ctx.toolUseId !== undefined ? { toolUseId: ctx.toolUseId } : {}),
  });
  return { content: report, summary: `Subagent done: ${value.description}` };
}

/** The task tool, its description listing the defined agents (.a3s/agents/*.md). */
export function createTaskTool(agents: readonly AgentInfo[] = []): Tool<Input> {
  return defineTool<Input>({
    name: "task",
    ruleName: "Task",
    description: describeTool(agents),
    input,
    readOnly: true,
    ruleSubject: (value) => value.subagent_type,
    run: runTask,
  });
}

export const taskTool = createTaskTool();
