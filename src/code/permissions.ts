/**
 * The permission policy: decides allow / deny / ask for one tool call from the rules (settings
 * files, config, session grants), the mode and the tool's nature. Order: deny rules → plan mode →
 * allow rules → ask rules → mode defaults (yolo allows, accept-edits allows edits inside the
 * workspace) → read-only tools allowed → ask.
 */
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import {
  parseRule,
  patternMatches,
  type Rule,
  type RuleEntry,
  type RuleList,
  type RuleRoots,
  type RuleSet,
  ruleCoversTool,
} from "./rules.ts";
import { addAllowRule } from "./settings.ts";
import { commandsRun, type RunCommand } from "./shell-wrappers.ts";

import type { PermissionDecision, PermissionMode, Tool, ToolContext } from "./types.ts";

/** What rules are matched against: a command that runs, or another tool's subject (none for bare tools). */
type Subject = Omit<RunCommand, "forms"> & { forms: Array<string | undefined> };

export interface PolicyOptions {
  rules: RuleSet;
  mode: PermissionMode;
  /** Where relative rule patterns are anchored, and what "inside the workspace" means. */
  projectRoot: string;
  /** `~/` in rule patterns. */
  homeDir: string;
  /** Directories outside the project that count as workspace (`additionalDirectories`, `--add-dir`). */
  extraDirs?: readonly string[];
}

interface ParsedEntry extends RuleEntry {
  parsed: Rule;
}

/** What the policy needs of a tool (a full Tool fits). */
export type PolicyTool = Pick<Tool, "name" | "ruleName" | "readOnly"> & {
  ruleSubject(input: Record<string, unknown>, ctx: Pick<ToolContext, "cwd">): string | undefined;
};

const EDIT_TOOLS = new Set(["Edit", "Write", "MultiEdit", "Patch", "NotebookEdit"]);
const READ_TOOLS = new Set(["Read", "Grep", "Glob", "LS"]);
const SEARCH_TOOLS = new Set(["Grep", "Glob", "LS"]);

/** Commands whose second word picks the action, so "allow always" should keep it (`git status`). */
const SUBCOMMAND_TOOLS = new Set([
  "git",
  "npm",
  "pnpm",
  "yarn",
  "bun",
  "deno",
  "cargo",
  "go",
  "docker",
  "podman",
  "kubectl",
  "make",
  "pip",
  "pip3",
  "uv",
  "poetry",
  "gh",
  "dotnet",
  "mvn",
  "gradle",
  "a3s",
  "brew",
  "apt",
  "systemctl",
]);
/** `npm run test`: the script name is the meaningful part. */
const RUN_WORDS = new Set(["run", "exec", "x"]);

export class PermissionPolicy {
  #mode: PermissionMode;
  readonly projectRoot: string;
  readonly #roots: RuleRoots;
  readonly #extraDirs: string[];
  readonly #lists: Record<RuleList, ParsedEntry[]>;

  /** Throws a usage A3sError naming the first invalid rule and its source. */
  constructor(options: PolicyOptions) {
    this.#mode = options.mode;
    this.projectRoot = resolve(options.projectRoot);
    this.#roots = { projectRoot: this.projectRoot, homeDir: options.homeDir };
    this.#extraDirs = (options.extraDirs ?? []).map((dir) => resolve(this.projectRoot, dir));
    const parse = (list: readonly RuleEntry[]) =>
      list.map((entry) => ({ ...entry, parsed: parseRule(entry.rule) }));
    this.#lists = {
      allow: parse(options.rules.allow),
      deny: parse(options.rules.deny),
      ask: parse(options.rules.ask),
    };
  }

  get mode(): PermissionMode {
    return this.#mode;
  }

  setMode(mode: PermissionMode): void {
    this.#mode = mode;
  }

  /** Adds an allow rule for the rest of the session (an approval, or `--allow` on the command line). */
  grant(rule: string, source = "session"): void {
    const parsed = parseRule(rule);
    if (this.#lists.allow.some((entry) => entry.parsed.raw === parsed.raw)) return;
    this.#lists.allow.push({ rule: parsed.raw, source, parsed });
  }

  /** "Allow always": granted now and persisted to the project's .a3s/settings.local.json. */
  allowAlways(rule: string): string {
    this.grant(rule);
    const path = addAllowRule(this.projectRoot, rule);
    const entry = this.#lists.allow.find((candidate) => candidate.parsed.raw === parseRule(rule).raw);
    if (entry !== undefined) entry.source = path;
    return path;
  }

  /** Every rule with its source, for /permissions. */
  rules(): Record<RuleList, RuleEntry[]> {
    const plain = (list: ParsedEntry[]) => list.map(({ rule, source }) => ({ rule, source }));
    return { allow: plain(this.#lists.allow), deny: plain(this.#lists.deny), ask: plain(this.#lists.ask) };
  }

  /** The shape of CodeSession.permissions(). */
  summary(): { allow: string[]; deny: string[]; ask: string[]; mode: PermissionMode } {
    const names = (list: ParsedEntry[]) => list.map((entry) => entry.rule);
    return {
      allow: names(this.#lists.allow),
      deny: names(this.#lists.deny),
      ask: names(this.#lists.ask),
      mode: this.#mode,
    };
  }

  decide(
    tool: PolicyTool,
    input: Record<string, unknown>,
    ctx: Pick<ToolContext, "cwd">,
  ): PermissionDecision {
    const subject = tool.ruleSubject(input, ctx);
    const isBash = tool.ruleName === "Bash";
    // A command line is as allowed as its least allowed command, wrapped ones included (shell-wrappers.ts).
    const runs: Subject[] =
      isBash && subject !== undefined ? commandsRun(subject) : [{ forms: [subject], judgedByInner: false }];
    const firstMatch = (list: RuleList, run: Subject) => {
      for (const form of run.forms) {
        const found = this.#lists[list].find((entry) =>
          this.#matches(entry.parsed, tool.ruleName, form, ctx.cwd),
        );
        if (found !== undefined) return found;
      }
      return undefined;
    };

    for (const run of runs) {
      const denied = firstMatch("deny", run);
      if (denied !== undefined) return { behavior: "deny", reason: `denied by ${describe(denied)}` };
    }
    if (this.#mode === "plan" && !tool.readOnly) return { behavior: "deny", reason: "plan mode: read-only" };

    const mustAllow = runs.filter((run) => !run.judgedByInner);
    const allowedBy = mustAllow.map((run) => firstMatch("allow", run));
    if (allowedBy.every((entry) => entry !== undefined)) {
      const rules = [...new Set(allowedBy.map((entry) => entry?.rule))];
      return { behavior: "allow", reason: `allowed by ${rules.join(", ")}` };
    }
    for (const run of runs) {
      const asked = firstMatch("ask", run);
      if (asked !== undefined) return { behavior: "ask", reason: `ask rule ${describe(asked)}` };
    }

    if (this.#mode === "yolo") return { behavior: "allow", reason: "yolo mode" };
    if (this.#mode === "accept-edits" && EDIT_TOOLS.has(tool.ruleName)) {
      if (subject !== undefined && this.#insideWorkspace(resolve(ctx.cwd, subject), ctx.cwd)) {
        return { behavior: "allow", reason: "accept-edits mode" };
      }
      return { behavior: "ask", reason: "accept-edits mode: the file is outside the workspace" };
    }
    if (tool.readOnly) return { behavior: "allow", reason: "read-only tool" };
    const unmatched = isBash
      ? mustAllow.find((_, index) => allowedBy[index] === undefined)?.forms.at(-1)
      : subject;
    return {
      behavior: "ask",
      reason:
        unmatched === undefined
          ? `no rule allows ${tool.ruleName}`
          : `no rule allows ${tool.ruleName}(${unmatched})`,
    };
  }

  /**
   * The rule "allow always" would add: for Bash the command's first word(s) with `:*` (for a compound
   * command, of its first part no rule allows yet); for file edits the file's directory (`Edit(src/**)`);
   * for WebFetch the domain; otherwise the tool's rule name.
   */
  suggestRule(tool: PolicyTool, input: Record<string, unknown>, ctx: Pick<ToolContext, "cwd">): string {
    const subject = tool.ruleSubject(input, ctx);
    if (tool.ruleName === "Bash" && subject !== undefined) {
      const runs = commandsRun(subject).filter((run) => !run.judgedByInner);
      const unallowed = runs.find(
        (run) =>
          !run.forms.some((form) =>
            this.#lists.allow.some((entry) => this.#matches(entry.parsed, "Bash", form, ctx.cwd)),
          ),
      );
      const pending = (unallowed ?? runs[0])?.forms.at(-1) ?? subject;
      return `Bash(${commandPrefix(pending)}:*)`;
    }
    if ((EDIT_TOOLS.has(tool.ruleName) || READ_TOOLS.has(tool.ruleName)) && subject !== undefined) {
      const family = EDIT_TOOLS.has(tool.ruleName) ? "Edit" : "Read";
      const path = resolve(ctx.cwd, subject);
      // Search tools name a directory; the others a file, whose directory is what a rule should cover.
      const dir = SEARCH_TOOLS.has(tool.ruleName) ? path : dirname(path);
      // The project's own top level would cover the whole project: name the file instead.
      if (dir === this.projectRoot && dir !== path) return `${family}(/${relative(dir, path)})`;
      return `${family}(${this.#directoryPattern(dir)})`;
    }
    if (tool.ruleName === "WebFetch" && subject?.startsWith("domain:")) return `WebFetch(${subject})`;
    return tool.ruleName;
  }

  #matches(rule: Rule, ruleName: string, subject: string | undefined, cwd: string): boolean {
    return ruleCoversTool(rule, ruleName) && patternMatches(rule, subject, cwd, this.#roots);
  }

  #insideWorkspace(path: string, cwd: string): boolean {
    return [this.projectRoot, resolve(cwd), ...this.#extraDirs].some((dir) => isInside(path, dir));
  }

  /** `src/**` inside the project (`/**` for all of it), `~/x/**` under home, `//abs/**` elsewhere. */
  #directoryPattern(dir: string): string {
    if (isInside(dir, this.projectRoot)) {
      const rel = relative(this.projectRoot, dir).split(sep).join("/");
      return rel === "" ? "/**" : `${rel}/**`;
    }
    if (isInside(dir, this.#roots.homeDir)) {
      return `~/${relative(this.#roots.homeDir, dir).split(sep).join("/")}/**`;
    }
    return `/${dir.split(sep).join("/")}/**`;
  }
}

/** `git status -s` → `git status`; `npm run test -- -u` → `npm run test`; `ls -la` → `ls`. */
export function commandPrefix(command: string): string {
  const words = command.trim().split(/\s+/);
  const first = words[0] ?? "";
  const take = (count: number) => words.slice(0, count).join(" ");
  const name = first.split("/").pop() ?? first;
  if (!SUBCOMMAND_TOOLS.has(name)) return first;
  const second = words[1];
  if (second === undefined || second.startsWith("-")) return first;
  if (RUN_WORDS.has(second) && words[2] !== undefined && !words[2].startsWith("-")) return take(3);
  return take(2);
}

function describe(entry: RuleEntry): string {
  return `${entry.rule} (${entry.source})`;
}

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
