/**
 * Where MCP servers are configured, and the one reader of it: the user's `code.mcpServers` in
 * A3S_HOME's config.json, then the project's `.mcp.json` (Claude Code's file, so a repository set
 * up for Claude Code works as is), `.a3s/settings.json` and `.a3s/settings.local.json`. An entry
 * replaces one of its name from an earlier file, as in Claude Code. Sessions start what this returns
 * and `a3s code mcp` lists it; `add` and `rm` edit the user config or `.mcp.json`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { applyEdits, modify, type ParseError, parse, printParseErrorCode } from "jsonc-parser";
import type { z } from "zod";
import { ConfigSchema, McpServerSchema } from "../../core/config.ts";
import { A3sError, fromSystemError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import { settingsPaths } from "../settings.ts";

export type McpServerConfig = z.output<typeof McpServerSchema>;
/** What is written: defaults (empty args, env, headers) may be left out. */
export type McpServerEntry = z.input<typeof McpServerSchema>;
/** `local` is `.a3s/settings.local.json`: the project's, but not shared. */
export type McpScope = "user" | "project" | "local";
/** The scopes `add` and `rm` edit. */
export type WritableMcpScope = "user" | "project";
export const MCP_SCOPES: readonly WritableMcpScope[] = ["user", "project"];

export const PROJECT_MCP_FILE = ".mcp.json";

export interface ConfiguredMcpServer {
  name: string;
  scope: McpScope;
  /** The file it is defined in. */
  file: string;
  /** Absent when the entry is invalid; `error` then says why. */
  config?: McpServerConfig;
  error?: string;
}

export interface McpSources {
  /** The user config file and its (already validated) `code.mcpServers`. */
  configPath: string;
  userServers: Record<string, McpServerConfig>;
  projectRoot: string;
}

/**
 * Every configured server, in the order of the files; a later entry replaces an earlier one of its
 * name. An invalid entry is reported on its own and does not hide the others.
 */
export function configuredMcpServers(sources: McpSources): ConfiguredMcpServer[] {
  const settings = settingsPaths(sources.projectRoot);
  const user = Object.entries(sources.userServers).map(
    ([name, config]): ConfiguredMcpServer => ({ name, scope: "user", file: sources.configPath, config }),
  );
  const byName = new Map<string, ConfiguredMcpServer>();
  for (const server of [
    ...user,
    ...fileMcpServers(join(sources.projectRoot, PROJECT_MCP_FILE), "project"),
    ...fileMcpServers(settings.shared, "project"),
    ...fileMcpServers(settings.local, "local"),
  ]) {
    byName.delete(server.name);
    byName.set(server.name, server);
  }
  return [...byName.values()];
}

/** The valid entries as the map McpManager takes. */
export function serverMap(servers: readonly ConfiguredMcpServer[]): Record<string, McpServerConfig> {
  const map: Record<string, McpServerConfig> = {};
  for (const server of servers) if (server.config) map[server.name] = server.config;
  return map;
}

/** The `mcpServers` of one JSONC file (none when the file does not exist). */
export function fileMcpServers(file: string, scope: McpScope): ConfiguredMcpServer[] {
  const servers = readJsonObject(file).mcpServers;
  if (servers === undefined) return [];
  if (servers === null || typeof servers !== "object" || Array.isArray(servers)) {
    throw new A3sError("usage", `${file}: mcpServers must be an object`);
  }
  return Object.entries(servers).map(([name, raw]): ConfiguredMcpServer => {
    const parsed = McpServerSchema.safeParse(raw);
    if (parsed.success) return { name, scope, file, config: parsed.data };
    const issue = parsed.error.issues[0];
    const field = [name, ...(issue?.path ?? []).map(String)].join(".");
    return {
      name,
      scope,
      file,
      error: `invalid entry in ${file}: mcpServers.${field}: ${issue?.message ?? "invalid"}`,
    };
  });
}

/** Claude Code's names: letters, digits, hyphens and underscores. */
function assertServerName(name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new A3sError("usage", `invalid MCP server name '${name}'`, {
      hint: "use letters, digits, hyphens and underscores",
    });
  }
}

/** Adds a server to one scope's file; a name already there is a conflict. */
export function addMcpServer(
  where: { scope: WritableMcpScope; configPath: string; projectRoot: string },
  name: string,
  entry: McpServerEntry,
): string {
  assertServerName(name);
  const checked = McpServerSchema.safeParse(entry);
  if (!checked.success) {
    throw new A3sError(
      "usage",
      `invalid MCP server '${name}': ${checked.error.issues[0]?.message ?? "invalid"}`,
    );
  }
  const file = scopeFile(where);
  if (definedIn(where.scope, file, name)) {
    throw new A3sError("conflict", `MCP server '${name}' already exists in ${file}`, {
      hint: `remove it first: a3s code mcp rm ${name} --scope ${where.scope}`,
    });
  }
  editScopeFile(where.scope, file, name, entry);
  return file;
}

/** Removes a server from `scope`, or from the one scope that defines it; returns the file edited. */
export function removeMcpServer(
  where: { scope?: WritableMcpScope; configPath: string; projectRoot: string },
  name: string,
): string {
  const scopes = where.scope ? [where.scope] : MCP_SCOPES;
  const found = scopes.filter((scope) => definedIn(scope, scopeFile({ ...where, scope }), name));
  const [scope] = found;
  if (scope === undefined) {
    throw new A3sError(
      "not_found",
      `no MCP server named '${name}'${where.scope ? ` in ${where.scope} scope` : ""}`,
      { hint: "see 'a3s code mcp ls'; servers in .a3s/settings*.json are edited in those files" },
    );
  }
  if (found.length > 1) {
    throw new A3sError("usage", `MCP server '${name}' exists in both user and project scope`, {
      hint: "choose one with --scope user or --scope project",
    });
  }
  const file = scopeFile({ ...where, scope });
  editScopeFile(scope, file, name, undefined);
  return file;
}

/**
 * `${VAR}` and `${VAR:-default}` in command, args, env, url and headers, as Claude Code expands them
 * in .mcp.json, so a shared file can name secrets without containing them.
 */
export function expandServerConfig(config: McpServerConfig, env: NodeJS.ProcessEnv): McpServerConfig {
  const expand = (text: string) =>
    text.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_match, name: string, fallback?: string) => {
        const value = env[name];
        if (value !== undefined && value !== "") return value;
        if (fallback !== undefined) return fallback;
        throw new A3sError("usage", `environment variable ${name} is not set`);
      },
    );
  const expandAll = (record: Record<string, string>) =>
    Object.fromEntries(Object.entries(record).map(([key, value]) => [key, expand(value)]));
  if ("command" in config) {
    return {
      ...config,
      command: expand(config.command),
      args: config.args.map(expand),
      env: expandAll(config.env),
      ...(config.cwd === undefined ? {} : { cwd: expand(config.cwd) }),
    };
  }
  return { ...config, url: expand(config.url), headers: expandAll(config.headers) };
}

function scopeFile(where: { scope: WritableMcpScope; configPath: string; projectRoot: string }): string {
  return where.scope === "user" ? where.configPath : join(where.projectRoot, PROJECT_MCP_FILE);
}

function scopePath(scope: WritableMcpScope, name: string): string[] {
  return scope === "user" ? ["code", "mcpServers", name] : ["mcpServers", name];
}

function definedIn(scope: WritableMcpScope, file: string, name: string): boolean {
  let value: unknown = readJsonObject(file);
  for (const part of scopePath(scope, name)) {
    if (value === null || typeof value !== "object") return false;
    value = (value as Record<string, unknown>)[part];
  }
  return value !== undefined;
}

/** Edits one entry in place, keeping the file's comments and layout; the user file is validated whole. */
function editScopeFile(
  scope: WritableMcpScope,
  file: string,
  name: string,
  entry: McpServerEntry | undefined,
): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "{}\n";
  const edits = modify(text, scopePath(scope, name), entry, {
    formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" },
  });
  const updated = applyEdits(text, edits);
  if (scope === "user") {
    const result = ConfigSchema.safeParse(parse(updated, [], { allowTrailingComma: true }));
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new A3sError(
        "usage",
        `invalid configuration in ${file}: ${issue?.path.join(".")}: ${issue?.message}`,
      );
    }
  }
  writeFileAtomic(file, updated.endsWith("\n") ? updated : `${updated}\n`);
}

function readJsonObject(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw fromSystemError(err, `cannot read ${file}`);
  }
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true });
  const first = errors[0];
  if (first !== undefined) {
    throw new A3sError("usage", `${file}: invalid JSON (${printParseErrorCode(first.error)})`);
  }
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new A3sError("usage", `${file}: must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
