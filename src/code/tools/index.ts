/**
 * The built-in tools of `a3s code`. Read-only tools (read, grep, glob, ls, web_fetch, web_search,
 * todo, task) run without asking by default and may run in parallel; bash, write, edit, patch and
 * cron change things and go through the permission rules. task counts as read-only because it
 * changes nothing itself: each tool call its subagent makes is checked like any other.
 */
import type { Tool } from "../types.ts";
import { bashTool } from "./bash.ts";
import { cronTool } from "./cron.ts";
import { editTool } from "./edit.ts";
import { globTool } from "./glob.ts";
import { grepTool } from "./grep.ts";
import { lsTool } from "./ls.ts";
import { patchTool } from "./patch.ts";
import { readTool } from "./read.ts";
import { type AgentInfo, createTaskTool } from "./task.ts";
import { todoTool } from "./todo.ts";
import { webFetchTool } from "./web-fetch.ts";
import { webSearchTool } from "./web-search.ts";
import { writeTool } from "./write.ts";

export { toolSpec, type Validated, validateInput } from "./spec.ts";
export type { AgentInfo } from "./task.ts";

export interface BuiltinOptions {
  /** Subagents defined in .a3s/agents, listed in the task tool's description. */
  agents?: readonly AgentInfo[];
}

export function builtinTools(options: BuiltinOptions = {}): Tool[] {
  return [
    bashTool,
    readTool,
    writeTool,
    editTool,
    patchTool,
    grepTool,
    globTool,
    lsTool,
    webFetchTool,
    webSearchTool,
    todoTool,
    createTaskTool(options.agents),
    cronTool,
  ];
}

export function readOnlyToolNames(tools: readonly Tool[] = builtinTools()): string[] {
  return tools.filter((tool) => tool.readOnly).map((tool) => tool.name);
}
