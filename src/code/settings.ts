/**
 * The effective permissions and hooks of `a3s code` in one project: the user's config
 * (`code.permissions`, `code.hooks`), then the project's `.a3s/settings.json` and
 * `.a3s/settings.local.json` (Claude Code's settings shape, JSONC tolerated). Rule lists and hooks
 * add up across files; `defaultMode` is taken from the most specific file. MCP servers, configured
 * in the same files and `.mcp.json`, are read by mcp/config.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { applyEdits, modify, type ParseError, parse, printParseErrorCode } from "jsonc-parser";
import type { z } from "zod";
import { type Config, HOOK_EVENTS, HooksSchema, PermissionsSchema } from "../core/config.ts";
import { A3sError, fromSystemError } from "../core/errors.ts";
import { isDirectory, writeFileAtomic } from "../core/fs.ts";
import { parseRule, type RuleEntry, type RuleList } from "./rules.ts";
import type { PermissionMode } from "./types.ts";

export type Hooks = z.infer<typeof HooksSchema>;

export interface CodeSettings {
  projectRoot: string;
  permissions: {
    allow: RuleEntry[];
    deny: RuleEntry[];
    ask: RuleEntry[];
    defaultMode?: PermissionMode;
    /** Absolute paths. */
    additionalDirectories: string[];
  };
  hooks: Hooks;
  /** The files that exist and were read, lowest precedence first. */
  files: string[];
}

export interface LoadSettingsOptions {
  projectRoot: string;
  config: Config;
  /** Where the config came from, named as the source of its rules. */
  configPath: string;
  env: NodeJS.ProcessEnv;
}

interface Layer {
  source: string;
  permissions?: z.infer<typeof PermissionsSchema>;
  hooks?: Hooks;
  /** Relative `additionalDirectories` resolve against this directory. */
  base: string;
}

/** Claude Code's mode names, accepted so that its settings files can be copied as they are. */
const MODE_ALIASES: Record<string, PermissionMode> = {
  acceptEdits: "accept-edits",
  bypassPermissions: "yolo",
};

export function settingsPaths(projectRoot: string): { shared: string; local: string } {
  return {
    shared: join(projectRoot, ".a3s", "settings.json"),
    local: join(projectRoot, ".a3s", "settings.local.json"),
  };
}

/** Reads and merges every layer; a usage A3sError names the file and key of the first invalid value. */
export function loadCodeSettings(options: LoadSettingsOptions): CodeSettings {
  const projectRoot = resolve(options.projectRoot);
  const homeDir = options.env.HOME || homedir();
  const files = settingsPaths(projectRoot);
  const layers: Layer[] = [
    {
      source: options.configPath,
      permissions: options.config.code.permissions,
      hooks: options.config.code.hooks,
      base: homeDir,
    },
  ];
  const read: string[] = [];
  for (const path of [files.shared, files.local]) {
    const raw = readJsonc(path);
    if (raw === undefined) continue;
    read.push(path);
    layers.push({ ...validateSettings(raw, path), source: path, base: projectRoot });
  }

  const settings: CodeSettings = {
    projectRoot,
    permissions: { allow: [], deny: [], ask: [], additionalDirectories: [] },
    hooks: {},
    files: read,
  };
  for (const layer of layers) mergeLayer(settings, layer, homeDir);
  return settings;
}

function mergeLayer(settings: CodeSettings, layer: Layer, homeDir: string): void {
  const permissions = layer.permissions;
  if (permissions !== undefined) {
    for (const list of ["allow", "deny", "ask"] as const satisfies readonly RuleList[]) {
      for (const rule of permissions[list]) {
        checkRule(rule, layer.source, list);
        if (!settings.permissions[list].some((entry) => entry.rule === rule.trim())) {
          settings.permissions[list].push({ rule: rule.trim(), source: layer.source });
        }
      }
    }
    if (permissions.defaultMode !== undefined) settings.permissions.defaultMode = permissions.defaultMode;
    for (const dir of permissions.additionalDirectories) {
      const absolute = dir.startsWith("~/") ? join(homeDir, dir.slice(2)) : resolve(layer.base, dir);
      if (!settings.permissions.additionalDirectories.includes(absolute)) {
        settings.permissions.additionalDirectories.push(absolute);
      }
    }
  }
  for (const event of HOOK_EVENTS) {
    const matchers = layer.hooks?.[event];
    if (matchers !== undefined && matchers.length > 0) {
      settings.hooks[event] = [...(settings.hooks[event] ?? []), ...matchers];
    }
  }
}

function checkRule(rule: string, source: string, list: RuleList): void {
  try {
    parseRule(rule);
  } catch (err) {
    if (err instanceof A3sError) {
      throw new A3sError("usage", `${source}: permissions.${list}: ${err.message}`, { hint: err.hint });
    }
    throw err;
  }
}

/**
 * `permissions` and `hooks` are checked against the config schemas (`mcpServers` by mcp/config.ts);
 * other keys of Claude Code's settings (env, model, statusLine…) are not ours and are ignored.
 */
function validateSettings(raw: Record<string, unknown>, path: string): Omit<Layer, "source" | "base"> {
  const layer: Omit<Layer, "source" | "base"> = {};
  if (raw.permissions !== undefined) {
    const permissions = raw.permissions as Record<string, unknown> | null;
    const mode =
      typeof permissions === "object" && permissions !== null ? permissions.defaultMode : undefined;
    const withMode =
      typeof mode === "string" && Object.hasOwn(MODE_ALIASES, mode)
        ? { ...permissions, defaultMode: MODE_ALIASES[mode] }
        : permissions;
    layer.permissions = check(PermissionsSchema, withMode, path, "permissions");
  }
  if (raw.hooks !== undefined) layer.hooks = check(HooksSchema, raw.hooks, path, "hooks");
  return layer;
}

function check<T extends z.ZodType>(schema: T, value: unknown, path: string, key: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const keys = issue !== undefined && "keys" in issue ? [(issue.keys as string[])[0]] : [];
  const field = [key, ...(issue?.path ?? []).map(String), ...keys].join(".");
  const reason = issue?.code === "unrecognized_keys" ? "unknown key" : (issue?.message ?? "invalid");
  return throwUsage(`${path}: ${field}: ${reason}`);
}

function throwUsage(message: string): never {
  throw new A3sError("usage", message, { hint: "fix the file; its shape is Claude Code's settings.json" });
}

/** The object in a JSONC file, or undefined when there is no file. */
function readJsonc(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw fromSystemError(err, `cannot read ${path}`);
  }
  return parseJsonc(text, path);
}

function parseJsonc(text: string, path: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const before = text.slice(0, first.offset).split("\n");
    const where = `${before.length}:${(before[before.length - 1]?.length ?? 0) + 1}`;
    throwUsage(`${path}:${where}: invalid JSON (${printParseErrorCode(first.error)})`);
  }
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throwUsage(`${path}: the settings must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Persists an "allow always" answer in `.a3s/settings.local.json`, keeping the file's comments and
 * layout; returns the file's path. The file is personal, so it is kept out of git when it is created.
 */
export function addAllowRule(projectRoot: string, rule: string): string {
  const normalised = parseRule(rule).raw;
  const path = settingsPaths(projectRoot).local;
  const existed = existsSync(path);
  const text = existed ? readFileSync(path, "utf8") : "{}\n";
  const current = parseJsonc(text, path);
  const permissions = current.permissions as { allow?: unknown } | undefined;
  const allow = Array.isArray(permissions?.allow) ? (permissions.allow as unknown[]) : undefined;
  if (allow?.includes(normalised)) return path;
  const formattingOptions = { insertSpaces: true, tabSize: 2, eol: "\n" };
  const edits =
    allow === undefined
      ? modify(text, ["permissions", "allow"], [normalised], { formattingOptions })
      : modify(text, ["permissions", "allow", -1], normalised, { formattingOptions, isArrayInsertion: true });
  const updated = applyEdits(text, edits);
  writeFileAtomic(path, updated.endsWith("\n") ? updated : `${updated}\n`);
  if (!existed) excludeFromGit(projectRoot, ".a3s/settings.local.json");
  return path;
}

function excludeFromGit(projectRoot: string, entry: string): void {
  const info = join(projectRoot, ".git", "info");
  if (!isDirectory(join(projectRoot, ".git"))) return;
  const exclude = join(info, "exclude");
  const current = existsSync(exclude) ? readFileSync(exclude, "utf8") : "";
  if (current.split("\n").some((line) => line.trim() === entry || line.trim() === `/${entry}`)) return;
  try {
    writeFileAtomic(exclude, `${current}${current === "" || current.endsWith("\n") ? "" : "\n"}/${entry}\n`);
  } catch {
    // Best effort: an unwritable .git leaves the file visible to git, nothing worse.
  }
}
