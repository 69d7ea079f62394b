/**
 * Claude-Code-compatible permission rules: `Tool` or `Tool(pattern)`. How a pattern matches depends
 * on the tool: Bash commands (exact, `prefix:*`, `*` wildcards), file paths (gitignore-style globs
 * anchored at the project root, `//abs`, `~/home`), WebFetch domains, MCP server/tool names.
 */
import { isAbsolute, posix, resolve } from "node:path";
import { A3sError } from "../core/errors.ts";

export type RuleKind = "bash" | "path" | "domain" | "mcp" | "other";

export interface Rule {
  /** The rule as written. */
  raw: string;
  tool: string;
  /** Absent for a bare rule (`Bash`, `Bash(*)`): the rule covers every use of the tool. */
  pattern?: string;
  kind: RuleKind;
}

export type RuleList = "allow" | "deny" | "ask";

/** A rule as written, with where it came from (a settings file, the config file, "--allow", "session"). */
export interface RuleEntry {
  rule: string;
  source: string;
}

export interface RuleSet {
  allow: readonly RuleEntry[];
  deny: readonly RuleEntry[];
  ask: readonly RuleEntry[];
}

/** Where relative and `~/` path patterns are anchored. */
export interface RuleRoots {
  projectRoot: string;
  homeDir: string;
}

/** Rules on Edit cover every tool that edits files; rules on Read every tool that reads them. */
const FAMILIES: Record<string, readonly string[]> = {
  Edit: ["Edit", "Write", "MultiEdit", "Patch", "NotebookEdit"],
  Read: ["Read", "Grep", "Glob", "LS"],
};

const PATH_TOOLS = new Set([...(FAMILIES.Edit ?? []), ...(FAMILIES.Read ?? [])]);

const KNOWN_TOOLS = [...PATH_TOOLS, "Bash", "WebFetch", "WebSearch", "Task", "Skill", "TodoWrite", "Cron"];

const RULE = /^([A-Za-z][A-Za-z0-9_*-]*)(?:\((.*)\))?$/s;

/** Parses one rule; a usage A3sError names the rule and what is wrong with it. */
export function parseRule(raw: string): Rule {
  const text = raw.trim();
  const match = RULE.exec(text);
  const invalid = (why: string) =>
    new A3sError("usage", `invalid permission rule '${raw}': ${why}`, {
      hint: "rules look like Bash, Bash(npm run test:*), Read(src/**), WebFetch(domain:example.com), mcp__server__tool",
    });
  if (match === null) {
    throw invalid(
      text.includes("(") ? "unbalanced parentheses" : "a rule is a tool name, optionally with (pattern)",
    );
  }
  const tool = match[1] as string;
  const rawPattern = match[2];
  const kind: RuleKind = tool.startsWith("mcp__")
    ? "mcp"
    : tool === "Bash"
      ? "bash"
      : tool === "WebFetch"
        ? "domain"
        : PATH_TOOLS.has(tool)
          ? "path"
          : "other";
  if (tool.includes("*") && kind !== "mcp") throw invalid("'*' is only allowed in MCP tool names");
  const known = KNOWN_TOOLS.find((name) => name.toLowerCase() === tool.toLowerCase());
  if (known !== undefined && known !== tool)
    throw invalid(`tool names are case-sensitive: did you mean ${known}?`);
  if (kind === "mcp") {
    if (rawPattern !== undefined)
      throw invalid("MCP rules take no pattern: use mcp__server or mcp__server__tool");
    if (tool === "mcp__" || tool.endsWith("_"))
      throw invalid("expected mcp__server, mcp__server__tool or mcp__server__*");
    return { raw: text, tool, kind };
  }
  if (rawPattern === undefined) return { raw: text, tool, kind };
  const pattern = rawPattern.trim();
  if (pattern === "") throw invalid("empty pattern (write the bare tool name to cover every use)");
  if (pattern === "*" && kind !== "path") return { raw: text, tool, kind };
  if (kind === "bash" && pattern.includes(":*") && !pattern.endsWith(":*")) {
    throw invalid("':*' may only end the pattern (prefix match)");
  }
  if (kind === "domain") {
    const host = pattern.startsWith("domain:") ? pattern.slice("domain:".length) : undefined;
    if (host === undefined || !/^(\*\.)?[A-Za-z0-9.-]+(:\d+)?$/.test(host)) {
      throw invalid("WebFetch rules take domain:<host> (or domain:*.<host>)");
    }
  }
  return { raw: text, tool, pattern, kind };
}

/** Whether `rule` names this tool at all (pattern aside). */
export function ruleCoversTool(rule: Rule, ruleName: string): boolean {
  if (rule.kind === "mcp") {
    if (rule.tool.includes("*")) return wildcardRegex(rule.tool, false).test(ruleName);
    // `mcp__server` covers all of that server's tools.
    const serverOnly = !rule.tool.slice("mcp__".length).includes("__");
    return ruleName === rule.tool || (serverOnly && ruleName.startsWith(`${rule.tool}__`));
  }
  if (rule.tool === ruleName) return true;
  return FAMILIES[rule.tool]?.includes(ruleName) ?? false;
}

/**
 * Whether the rule's pattern accepts `subject`, the tool's rule subject. For bash it must be one
 * simple command (callers split compound lines first); for paths it is resolved against `cwd`.
 */
export function patternMatches(
  rule: Rule,
  subject: string | undefined,
  cwd: string,
  roots: RuleRoots,
): boolean {
  if (rule.pattern === undefined) return true;
  if (subject === undefined) return false;
  switch (rule.kind) {
    case "bash":
      return commandMatches(rule.pattern, subject);
    case "path":
      return pathRegex(rule.pattern, roots).test(resolve(cwd, subject));
    case "domain":
      return domainMatches(rule.pattern, subject);
    default:
      return rule.pattern.endsWith(":*")
        ? subject === rule.pattern.slice(0, -2) || subject.startsWith(rule.pattern.slice(0, -2))
        : wildcardRegex(rule.pattern, false).test(subject);
  }
}

/**
 * `npm run test:*` matches `npm run test` and `npm run test --watch` but not `npm run testx`;
 * `git * main` is a wildcard; a pattern ending in ` *` also matches the bare command (`ls *` ↔ `ls`);
 * anything else must match exactly (surrounding spaces aside).
 */
export function commandMatches(pattern: string, command: string): boolean {
  const cmd = command.trim().replace(/\s+/g, " ");
  if (pattern.endsWith(":*")) {
    const prefix = pattern.slice(0, -2).trim().replace(/\s+/g, " ");
    return cmd === prefix || cmd.startsWith(`${prefix} `);
  }
  const normalised = pattern.trim().replace(/\s+/g, " ");
  if (!normalised.includes("*")) return cmd === normalised;
  return wildcardRegex(
    normalised,
    normalised.endsWith(" *") && normalised.indexOf("*") === normalised.length - 1,
  ).test(cmd);
}

function wildcardRegex(pattern: string, optionalTail: boolean): RegExp {
  const body = optionalTail ? pattern.slice(0, -2) : pattern;
  const source = body.split("*").map(escapeRegex).join(".*");
  return new RegExp(`^${source}${optionalTail ? "(?: .*)?" : ""}$`, "s");
}

function domainMatches(pattern: string, subject: string): boolean {
  const want = pattern.slice("domain:".length).toLowerCase();
  const host = (subject.startsWith("domain:") ? subject.slice("domain:".length) : subject).toLowerCase();
  if (want.startsWith("*.")) return host.endsWith(want.slice(1));
  return host === want;
}

/**
 * The absolute-path regex of a gitignore-style pattern. `//x` is absolute, `~/x` is under the home
 * directory, `/x` and `./x` are anchored at the project root, a bare name without a slash (`*.env`)
 * matches at any depth, and a match on a directory covers everything under it.
 */
function pathRegex(pattern: string, roots: RuleRoots): RegExp {
  let base: string;
  let glob: string;
  if (pattern.startsWith("//")) {
    base = "/";
    glob = pattern.slice(2);
  } else if (pattern === "~" || pattern.startsWith("~/")) {
    base = roots.homeDir;
    glob = pattern.slice(2);
  } else if (pattern.startsWith("/")) {
    base = roots.projectRoot;
    glob = pattern.slice(1);
  } else if (pattern.startsWith("./") || pattern.startsWith("../")) {
    base = roots.projectRoot;
    glob = pattern;
  } else {
    base = roots.projectRoot;
    const anchored = pattern.replace(/\/+$/, "").includes("/");
    glob = anchored ? pattern : `**/${pattern}`;
  }
  const joined = posix
    .normalize(posix.join(isAbsolute(base) ? base : resolve(base), glob))
    .replace(/\/+$/, "");
  return new RegExp(`^${globToRegex(joined)}(?:/.*)?$`, "s");
}

function globToRegex(glob: string): string {
  let out = "";
  let i = 0;
  while (i < glob.length) {
    const c = glob[i] as string;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const atSegmentStart = i === 0 || glob[i - 1] === "/";
        if (atSegmentStart && glob[i + 2] === "/") {
          out += "(?:.*/)?";
          i += 3;
          continue;
        }
        if (atSegmentStart && i + 2 === glob.length) {
          out += ".*";
          i += 2;
          continue;
        }
        out += "[^/]*";
        i += 2;
        continue;
      }
      out += "[^/]*";
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
      } else {
        const inner = glob
          .slice(i + 1, close)
          .replace(/^!/, "^")
          .replaceAll("\\", "\\\\");
        out += `[${inner}]`;
        i = close;
      }
    } else if (c === "\\" && i + 1 < glob.length) {
      out += escapeRegex(glob[i + 1] as string);
      i++;
    } else {
      out += escapeRegex(c);
    }
    i++;
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
