/**
 * Claude-Code-compatible skills: `<root>/<name>/SKILL.md` with YAML front matter (`name`,
 * `description`, optional `allowed-tools`). The system prompt lists them by description; the
 * `skill` tool loads one's instructions when the model decides to use it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { z } from "zod";
import { isFile } from "../core/fs.ts";
import {
  type DefinitionRoot,
  type DefinitionSearch,
  type DefinitionWarning,
  definitionHeader,
  definitionRoots,
  listField,
  parseFrontMatter,
} from "./frontmatter.ts";
import type { Tool, ToolResult } from "./types.ts";

export interface Skill {
  name: string;
  description: string;
  /** Tools the skill expects to use (`allowed-tools`), as permission rules. */
  allowedTools?: string[];
  /** The skill's directory: its bundled files are relative to it. */
  dir: string;
  /** Its SKILL.md. */
  path: string;
  scope: "user" | "project";
}

const BUNDLED_FILES_CAP = 50;

/** Skills by name (project ones override user ones), and the files that could not be used. */
export function listSkills(search: DefinitionSearch): { skills: Skill[]; warnings: DefinitionWarning[] } {
  return skillsIn(definitionRoots("skills", search));
}

/** The skills a project itself brings (`.claude/skills`, `.a3s/skills`), for folder trust. */
export function projectSkills(projectRoot: string): Skill[] {
  const roots = definitionRoots("skills", { projectRoot, a3sHome: "", homeDir: "" });
  return skillsIn(roots.filter((root) => root.scope === "project")).skills;
}

function skillsIn(roots: DefinitionRoot[]): { skills: Skill[]; warnings: DefinitionWarning[] } {
  const byName = new Map<string, Skill>();
  const warnings: DefinitionWarning[] = [];
  for (const root of roots) {
    for (const entry of subdirectories(root.dir)) {
      const path = join(root.dir, entry, "SKILL.md");
      if (!isFile(path)) continue;
      try {
        const skill = readSkill(path, join(root.dir, entry), entry, root.scope);
        byName.set(skill.name, skill);
      } catch (err) {
        warnings.push({ path, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return { skills: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), warnings };
}

function readSkill(path: string, dir: string, dirName: string, scope: Skill["scope"]): Skill {
  const { data } = parseFrontMatter(readFileSync(path, "utf8"), path);
  const { name, description } = definitionHeader(data, path, dirName, "skill");
  const allowedTools = listField(data, "allowed-tools", path);
  return { name, description, dir, path, scope, ...(allowedTools === undefined ? {} : { allowedTools }) };
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() || entry.isSymbolicLink())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** The system prompt's skills section; empty when there are none. */
export function skillsPromptSection(skills: readonly Skill[]): string {
  if (skills.length === 0) return "";
  const lines = [
    "# Skills",
    'Skills are folders of instructions, scripts and resources for specialised tasks. When a task matches a skill\'s description, load the skill with the skill tool ({"name": "<skill>"}) before doing the task, then follow its instructions. Load a skill only when it is relevant; do not load one twice in a conversation.',
    "",
    "Available skills:",
  ];
  for (const skill of skills) lines.push(`- ${skill.name}: ${skill.description.replace(/\s+/g, " ")}`);
  return lines.join("\n");
}

const SkillInput = z.object({
  name: z.string().min(1).describe("The skill's name, as listed in the system prompt"),
});

/**
 * The `skill` tool over the given skills (rule name `Skill`, so `Skill(name)` rules apply). Loading a
 * skill grants its `allowed-tools` for the rest of the session, as Claude Code does; `grant` throws
 * on a rule it cannot parse, which the result reports instead of failing the load.
 */
export function skillTool(
  skills: readonly Skill[],
  grant: (rule: string, source: string) => void,
): Tool<z.infer<typeof SkillInput>> {
  return {
    name: "skill",
    ruleName: "Skill",
    description:
      "Load a skill's instructions by name. Skills are listed with their descriptions in the system prompt; load one when the task matches its description and follow what it says. Files it mentions are relative to its directory, which the result names.",
    input: SkillInput,
    readOnly: true,
    ruleSubject: (input) => input.name,
    run: async (input) => {
      const result = loadSkill(skills, input.name);
      const skill = skills.find((candidate) => candidate.name === input.name);
      if (result.isError || !skill?.allowedTools) return result;
      const invalid: string[] = [];
      for (const rule of skill.allowedTools) {
        try {
          grant(rule, `skill ${skill.name}`);
        } catch {
          invalid.push(rule);
        }
      }
      if (invalid.length === 0) return result;
      return {
        ...result,
        content: `${result.content}\n\n(Not granted, not valid rules: ${invalid.join(", ")})`,
      };
    },
  };
}

/** The instructions of a skill, read now (so edits made during the session apply). */
export function loadSkill(skills: readonly Skill[], name: string): ToolResult {
  const skill = skills.find((candidate) => candidate.name === name);
  if (skill === undefined) {
    const known = skills.map((candidate) => candidate.name).join(", ") || "none";
    return {
      content: `No skill named '${name}'. Available skills: ${known}.`,
      isError: true,
      summary: "unknown skill",
    };
  }
  let body: string;
  try {
    body = parseFrontMatter(readFileSync(skill.path, "utf8"), skill.path).body.trim();
  } catch (err) {
    return {
      content: `Cannot load skill '${name}': ${(err as Error).message}`,
      isError: true,
      summary: "invalid skill",
    };
  }
  const files = bundledFiles(skill.dir);
  const header = [
    `Skill: ${skill.name}`,
    `Base directory: ${skill.dir} (paths in the instructions are relative to it)`,
    ...(skill.allowedTools
      ? [`Allowed without asking while you follow this skill: ${skill.allowedTools.join(", ")}`]
      : []),
    ...(files.length > 0 ? [`Bundled files: ${files.join(", ")}`] : []),
  ];
  return { content: `${header.join("\n")}\n\n${body}`, summary: `Loaded skill ${skill.name}` };
}

function bundledFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string, depth: number) => {
    if (depth > 3 || found.length >= BUNDLED_FILES_CAP) return;
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (found.length >= BUNDLED_FILES_CAP) return;
      if (entry.name.startsWith(".")) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (!(depth === 0 && entry.name === "SKILL.md")) found.push(relative(dir, path));
    }
  };
  walk(dir, 0);
  return found;
}
