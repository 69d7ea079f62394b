/**
 * What the model is told about where it works: the project, git state, the instruction files
 * (AGENTS.md / CLAUDE.md) and the system prompt assembled around them.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { readTextIfPresent } from "../core/fs.ts";
import type { Paths } from "../core/paths.ts";
import type { PermissionMode } from "./types.ts";

const MEMORY_FILE_NAMES = ["AGENTS.md", "CLAUDE.md"];
const MEMORY_FILE_CAP = 20_000;
const STATUS_LINE_CAP = 40;
const GIT_TIMEOUT_MS = 5_000;

/** The nearest ancestor of `cwd` (itself included) holding `.git` (a directory, or a worktree's file); else `cwd`. */
export function findProjectRoot(cwd: string): string {
  const start = resolve(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

export interface MemoryFile {
  path: string;
  content: string;
  truncated: boolean;
}

/**
 * Instruction files in the order they apply, broadest first: `A3S_HOME/AGENTS.md`, then AGENTS.md
 * and CLAUDE.md in each directory from the project root down to `cwd`. A CLAUDE.md that repeats
 * an AGENTS.md (often a symlink) is read once.
 */
export function memoryFiles(projectRoot: string, cwd: string, paths: Pick<Paths, "home">): MemoryFile[] {
  const candidates = [join(paths.home, "AGENTS.md")];
  const rel = relative(projectRoot, resolve(cwd));
  const steps = rel === "" || rel.startsWith("..") ? [] : rel.split(sep);
  for (let depth = 0; depth <= steps.length; depth++) {
    const dir = join(projectRoot, ...steps.slice(0, depth));
    for (const name of MEMORY_FILE_NAMES) candidates.push(join(dir, name));
  }
  const seen = new Set<string>();
  const files: MemoryFile[] = [];
  for (const path of candidates) {
    const text = readTextIfPresent(path);
    if (text === undefined || text.trim() === "" || seen.has(text)) continue;
    seen.add(text);
    const truncated = text.length > MEMORY_FILE_CAP;
    files.push({
      path,
      truncated,
      content: truncated
        ? `${text.slice(0, MEMORY_FILE_CAP)}\n[… ${text.length - MEMORY_FILE_CAP} more characters: read the file for the rest]`
        : text,
    });
  }
  return files;
}

export interface WorkspaceContext {
  projectRoot: string;
  isGitRepo: boolean;
  branch?: string;
  /** The section of the system prompt describing the environment. */
  text: string;
}

export function workspaceContext(
  cwd: string,
  env: NodeJS.ProcessEnv,
  paths: Pick<Paths, "home">,
): WorkspaceContext {
  const dir = resolve(cwd);
  const projectRoot = findProjectRoot(dir);
  const git = (...args: string[]) => runGit(projectRoot, env, args);
  const isGitRepo = git("rev-parse", "--is-inside-work-tree") === "true";
  const lines = [
    "<env>",
    `Working directory: ${dir}`,
    `Project root: ${projectRoot}`,
    `Is a git repository: ${isGitRepo ? "yes" : "no"}`,
    `Platform: ${process.platform}`,
    `Today's date: ${new Date().toISOString().slice(0, 10)}`,
    "</env>",
  ];
  let branch: string | undefined;
  if (isGitRepo) {
    branch = git("branch", "--show-current") || undefined;
    const detached = branch === undefined ? git("rev-parse", "--short", "HEAD") : undefined;
    const head = branch ?? (detached ? `detached at ${detached}` : "(no commits yet)");
    const status = git("status", "--short");
    const statusLines = status === undefined || status === "" ? [] : status.split("\n");
    const shown = statusLines.slice(0, STATUS_LINE_CAP);
    if (statusLines.length > STATUS_LINE_CAP) shown.push(`… ${statusLines.length - STATUS_LINE_CAP} more`);
    const commits = git("log", "--oneline", "-n", "5");
    lines.push(
      "",
      "Git status at the start of the session (a snapshot; it will not update):",
      `Current branch: ${head}`,
      "",
      "Status:",
      shown.length > 0 ? shown.join("\n") : "(clean)",
      "",
      "Recent commits:",
      commits ? commits : "(none)",
    );
  }
  const memories = memoryFiles(projectRoot, dir, paths);
  if (memories.length > 0) {
    lines.push(
      "",
      "# Instructions from the user and the project",
      "Follow these; later files are more specific.",
    );
    for (const file of memories) {
      lines.push("", `Contents of ${file.path}:`, "", file.content.trimEnd());
    }
  }
  return { projectRoot, isGitRepo, ...(branch === undefined ? {} : { branch }), text: lines.join("\n") };
}

/** A git command's trimmed stdout, or undefined when git is missing, fails or times out. */
function runGit(cwd: string, env: NodeJS.ProcessEnv, args: string[]): string | undefined {
  const result = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    timeout: GIT_TIMEOUT_MS,
    // Reading status must not take the index lock from under the user's own git commands.
    env: { ...env, GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  if (result.status !== 0 || typeof result.stdout !== "string") return undefined;
  return result.stdout.trimEnd();
}

export interface SystemPromptParts {
  /** `workspaceContext(...).text`. */
  workspace: string;
  mode?: PermissionMode;
  /** `skillsPromptSection(...)`; empty or absent when there are no skills. */
  skills?: string;
  /** Context added by SessionStart / UserPromptSubmit hooks. */
  extraContext?: readonly string[];
  /** Replaces the default role section (a subagent's definition body). */
  role?: string;
}

const ROLE = `You are a3s code, a coding agent working in the user's terminal on their software project. You read and change code, run commands and answer questions about the codebase, using the tools you are given.

# How to work
- Understand before you change: search (grep, glob) and read the relevant files first; follow the project's existing conventions, libraries and style. Never assume a library is available: check the manifest (package.json, Cargo.toml, go.mod…) or neighbouring code.
- Make the smallest change that solves the task completely. Do not refactor, rename or reformat what you were not asked to touch, and do not add comments that narrate the change.
- Edit files with the edit tool (exact string replacement: include enough surrounding lines to match once) or patch; use write only for new files or full rewrites. Read a file before editing it.
- After changing code, verify it: run the project's tests, type checker or linter when they exist (find the commands in README, AGENTS.md, package.json scripts, Makefile). If something fails, fix it or say clearly what is left.
- Use bash for builds, tests, git and other commands; prefer the dedicated tools for reading, searching and editing files. Quote paths with spaces. Do not run interactive commands or start servers that never exit unless asked; do not use destructive commands (rm -rf, git reset --hard, force pushes) unless the user asked for them.
- Never commit, push or create branches unless the user asks. Never expose or log secrets and keys.
- Call independent read-only tools together in one turn; they run in parallel.
- For multi-step work, keep a todo list with the todo tool and mark items done as you go. Delegate broad searches or self-contained subtasks to the task tool to keep your context small.
- If a tool call is denied, do not retry the same call; adjust, or ask the user.
- When the request is ambiguous in a way that matters, ask one short question instead of guessing.

# How to answer
- Be concise and direct: short answers, no preamble or closing summaries of what you just did unless asked. Use GitHub-flavoured markdown; it is rendered in a terminal.
- Refer to code as path:line so the user can jump to it.
- Report what you did and what you verified; never claim a test passed that you did not run.`;

const PLAN_MODE = `# Plan mode
You are in plan mode: you may only read and search. Tools that change files or run commands are denied. Investigate, then present a concrete plan (files to change, steps, how to verify) and wait for the user to approve it.`;

/** Assembles the system prompt: role, mode, environment and instructions, skills, hook context. */
export function systemPrompt(parts: SystemPromptParts): string {
  const sections = [parts.role?.trim() || ROLE];
  if (parts.mode === "plan") sections.push(PLAN_MODE);
  sections.push(`# Environment\n${parts.workspace.trim()}`);
  if (parts.skills !== undefined && parts.skills.trim() !== "") sections.push(parts.skills.trim());
  const extra = (parts.extraContext ?? []).map((text) => text.trim()).filter((text) => text !== "");
  if (extra.length > 0) sections.push(`# Additional context\n${extra.join("\n\n")}`);
  return sections.join("\n\n");
}
