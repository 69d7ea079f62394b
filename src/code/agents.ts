/**
 * Subagent definitions, as Claude Code writes them: `<root>/<name>.md` with front matter (`name`,
 * `description`, `tools`, `model`) and the system prompt as the body. The `task` tool runs them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { A3sError } from "../core/errors.ts";
import {
  type DefinitionSearch,
  type DefinitionWarning,
  definitionHeader,
  definitionRoots,
  listField,
  parseFrontMatter,
  stringField,
} from "./frontmatter.ts";

export interface AgentDefinition {
  name: string;
  /** When to use this agent; offered to the model in the task tool's description. */
  description: string;
  /** Tools the agent may use (rule names or tool names); undefined = every tool except `task`. */
  tools?: string[];
  /** "provider/model"; undefined = the parent's model (also what "inherit" means). */
  model?: string;
  /** The agent's system prompt. */
  prompt: string;
  path: string;
  scope: "user" | "project";
}

/** Agents by name (project ones override user ones), and the files that could not be used. */
export function listAgentDefinitions(search: DefinitionSearch): {
  agents: AgentDefinition[];
  warnings: DefinitionWarning[];
} {
  const byName = new Map<string, AgentDefinition>();
  const warnings: DefinitionWarning[] = [];
  for (const root of definitionRoots("agents", search)) {
    for (const file of markdownFiles(root.dir)) {
      const path = join(root.dir, file);
      try {
        const agent = readAgent(path, root.scope);
        byName.set(agent.name, agent);
      } catch (err) {
        warnings.push({ path, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return { agents: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), warnings };
}

export function findAgent(name: string, search: DefinitionSearch): AgentDefinition | undefined {
  return listAgentDefinitions(search).agents.find((agent) => agent.name === name);
}

function readAgent(path: string, scope: AgentDefinition["scope"]): AgentDefinition {
  const { data, body } = parseFrontMatter(readFileSync(path, "utf8"), path);
  const { name, description } = definitionHeader(data, path, basename(path, ".md"), "agent");
  const prompt = body.trim();
  if (prompt === "") throw new A3sError("usage", `${path}: the body (the agent's system prompt) is empty`);
  const tools = listField(data, "tools", path);
  const model = stringField(data, "model", path);
  return {
    name,
    description,
    prompt,
    path,
    scope,
    ...(tools === undefined ? {} : { tools }),
    ...(model === undefined || model === "inherit" ? {} : { model }),
  };
}

function markdownFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && entry.name.endsWith(".md"))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}
