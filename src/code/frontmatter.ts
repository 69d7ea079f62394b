/**
 * Markdown files with YAML front matter (SKILL.md, agent definitions), as Claude Code writes them:
 * a `---` line, YAML, a `---` line, then the body.
 */
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { A3sError } from "../core/errors.ts";

export interface FrontMatter {
  data: Record<string, unknown>;
  body: string;
}

const OPENING = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSING = /(?:^|\r?\n)---[ \t]*(?:\r?\n|$)/;

/** Splits and parses; throws a usage A3sError naming `source` when the YAML is invalid or missing. */
export function parseFrontMatter(text: string, source: string): FrontMatter {
  const opening = OPENING.exec(text);
  if (opening === null) {
    throw new A3sError("usage", `${source}: no front matter (the file must start with a '---' line)`);
  }
  const rest = text.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  if (closing === null) throw new A3sError("usage", `${source}: front matter is not closed by a '---' line`);
  const yaml = rest.slice(0, closing.index);
  const body = rest.slice(closing.index + closing[0].length);
  let data: unknown;
  try {
    data = parseYaml(yaml);
  } catch (err) {
    const detail = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new A3sError("usage", `${source}: invalid YAML front matter: ${detail}`);
  }
  if (data === null || data === undefined) return { data: {}, body };
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new A3sError("usage", `${source}: front matter must be a mapping of keys to values`);
  }
  return { data: data as Record<string, unknown>, body };
}

/** A string field, trimmed; undefined when absent or blank; a usage error when not a string. */
export function stringField(data: Record<string, unknown>, key: string, source: string): string | undefined {
  const value = data[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new A3sError("usage", `${source}: '${key}' must be a string`);
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/**
 * A list field written either as a YAML list or as Claude Code's comma-separated string
 * (`tools: Read, Grep, Bash(git:*)`); commas inside parentheses do not split.
 */
export function listField(data: Record<string, unknown>, key: string, source: string): string[] | undefined {
  const value = data[key];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item !== "string") throw new A3sError("usage", `${source}: '${key}' must list strings`);
      return item.trim();
    });
  }
  if (typeof value !== "string") {
    throw new A3sError("usage", `${source}: '${key}' must be a list or a comma-separated string`);
  }
  return splitOutsideParens(value)
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function splitOutsideParens(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    else if (char === ")") depth = Math.max(0, depth - 1);
    if (char === "," && depth === 0) {
      items.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  items.push(current);
  return items;
}

/** Where Claude-Code-style definitions of one kind (skills, agents) live. */
export interface DefinitionRoot {
  dir: string;
  scope: "user" | "project";
}

export interface DefinitionSearch {
  projectRoot: string;
  /** A3S_HOME (`paths.home`). */
  a3sHome: string;
  /** The user's home, for `~/.claude`. */
  homeDir: string;
}

/**
 * Directories of `kind`, lowest precedence first, so later definitions override earlier ones by
 * name: `~/.claude/<kind>`, `A3S_HOME/<kind>`, `<project>/.claude/<kind>`, `<project>/.a3s/<kind>`.
 */
export function definitionRoots(kind: "skills" | "agents", search: DefinitionSearch): DefinitionRoot[] {
  const roots: DefinitionRoot[] = [
    { dir: join(search.homeDir, ".claude", kind), scope: "user" },
    { dir: join(search.a3sHome, kind), scope: "user" },
    { dir: join(search.projectRoot, ".claude", kind), scope: "project" },
    { dir: join(search.projectRoot, ".a3s", kind), scope: "project" },
  ];
  // Working in the home directory makes the project's folders the user's: read them once.
  return roots.filter((root, index) => roots.findIndex((other) => other.dir === root.dir) === index);
}

/** A definition file that could not be used; listed, never fatal. */
export interface DefinitionWarning {
  path: string;
  message: string;
}

const DEFINITION_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/**
 * The name and description every skill and agent needs: the name from front matter or the file's
 * own name, the description because it is all the model sees when choosing one.
 */
export function definitionHeader(
  data: Record<string, unknown>,
  path: string,
  fallbackName: string,
  kind: "skill" | "agent",
): { name: string; description: string } {
  const name = stringField(data, "name", path) ?? fallbackName;
  if (!DEFINITION_NAME.test(name)) {
    throw new A3sError("usage", `${path}: invalid ${kind} name '${name}' (letters, digits, '-', '_', '.')`);
  }
  const description = stringField(data, "description", path);
  if (description === undefined) {
    throw new A3sError(
      "usage",
      `${path}: 'description' is required (it is how the model knows when to use the ${kind})`,
    );
  }
  return { name, description };
}
