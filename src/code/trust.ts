/**
 * Folder trust, as Claude Code asks for it. A project's own configuration can start MCP servers, run
 * hook commands, grant permissions and switch off approvals, so a repository someone else wrote must
 * not get that by being opened: `a3s code` in a terminal asks once per project before honouring it.
 * Trusted project roots are kept in A3S_HOME/trusted-projects.json; trusting a folder covers
 * everything under it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type ParseError, parse } from "jsonc-parser";
import { A3sError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { PROJECT_MCP_FILE } from "./mcp/config.ts";
import { settingsPaths } from "./settings.ts";
import { projectSkills } from "./skills.ts";

export interface ProjectConfigFile {
  path: string;
  /** What in it takes effect, in words: "MCP servers: github, db", "hooks: PreToolUse"… */
  holds: string[];
}

/**
 * The project files that would change what a session may do, skills that grant tools among them;
 * empty when there are none.
 */
export function projectConfiguration(projectRoot: string): ProjectConfigFile[] {
  const { shared, local } = settingsPaths(projectRoot);
  const files: ProjectConfigFile[] = [];
  for (const path of [join(projectRoot, PROJECT_MCP_FILE), shared, local]) {
    if (!existsSync(path)) continue;
    files.push({ path, holds: describe(path) });
  }
  for (const skill of projectSkills(projectRoot)) {
    if (skill.allowedTools && skill.allowedTools.length > 0) {
      files.push({
        path: skill.path,
        holds: [`skill ${skill.name} allows: ${skill.allowedTools.join(", ")}`],
      });
    }
  }
  return files;
}

function describe(path: string): string[] {
  let value: unknown;
  const errors: ParseError[] = [];
  try {
    value = parse(readFileSync(path, "utf8"), errors, { allowTrailingComma: true });
  } catch {
    return ["unreadable"];
  }
  if (errors.length > 0) return ["invalid JSON"];
  if (value === null || typeof value !== "object") return ["not a JSON object"];
  const raw = value as Record<string, unknown>;
  const holds: string[] = [];
  const keys = (field: unknown) =>
    field !== null && typeof field === "object" && !Array.isArray(field) ? Object.keys(field) : [];
  const servers = keys(raw.mcpServers);
  if (servers.length > 0) holds.push(`MCP servers: ${servers.join(", ")}`);
  const hooks = keys(raw.hooks);
  if (hooks.length > 0) holds.push(`hooks: ${hooks.join(", ")}`);
  const permissions = (raw.permissions ?? {}) as Record<string, unknown>;
  for (const list of ["allow", "ask", "deny"]) {
    const rules = permissions[list];
    if (Array.isArray(rules) && rules.length > 0) holds.push(`${list} rules: ${rules.join(", ")}`);
  }
  if (typeof permissions.defaultMode === "string") holds.push(`permission mode: ${permissions.defaultMode}`);
  return holds.length > 0 ? holds : ["nothing a3s uses"];
}

interface TrustFile {
  projects: Record<string, { trustedAt: string }>;
}

export class TrustStore {
  constructor(readonly file: string) {}

  /** Whether `dir` or a folder above it was trusted. */
  isTrusted(dir: string): boolean {
    const projects = this.read().projects;
    for (let current = resolve(dir); ; current = dirname(current)) {
      if (Object.hasOwn(projects, current)) return true;
      if (dirname(current) === current) return false;
    }
  }

  trust(dir: string, now = new Date()): void {
    const data = this.read();
    data.projects[resolve(dir)] = { trustedAt: now.toISOString() };
    writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
  }

  private read(): TrustFile {
    if (!existsSync(this.file)) return { projects: {} };
    let data: Partial<TrustFile> | null = null;
    try {
      data = JSON.parse(readFileSync(this.file, "utf8")) as Partial<TrustFile> | null;
    } catch {
      data = null;
    }
    if (typeof data?.projects === "object" && data.projects !== null) return data as TrustFile;
    throw new A3sError("usage", `${this.file} is not a trust list a3s wrote`, {
      hint: "delete it; a3s code will ask again which folders to trust",
    });
  }
}
