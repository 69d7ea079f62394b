/** The grep tool: a regex over the workspace's files, printed the way ripgrep prints it. */
import { statSync } from "node:fs";
import { z } from "zod";
import type { ToolContext, ToolResult } from "../types.ts";
import { type FileHits, type GrepEngine, searchFiles } from "./grep-engines.ts";
import { confine, pathSubject, workspacePath } from "./paths.ts";
import { missingFile } from "./text-file.ts";
import { defineTool } from "./tool.ts";

export const DEFAULT_HEAD_LIMIT = 250;
const MAX_LINE_CHARS = 500;

const input = z.object({
  pattern: z
    .string()
    .min(1)
    .describe("The regular expression to search for (ripgrep syntax), e.g. `function\\s+\\w+`"),
  path: z.string().optional().describe("File or directory to search (default: the workspace)"),
  glob: z
    .string()
    .optional()
    .describe(
      "Only search files matching this glob, e.g. `*.ts`, `*.{ts,tsx}` or `src/**/*.py`; `!` excludes",
    ),
  output_mode: z
    .enum(["files_with_matches", "content", "count"])
    .default("files_with_matches")
    .describe(
      "files_with_matches: the files that match (default); content: the matching lines with line numbers; count: matches per file",
    ),
  case_insensitive: z.boolean().default(false).describe("Match without regard to case"),
  context: z
    .number()
    .int()
    .min(0)
    .max(20)
    .optional()
    .describe("Lines to show before and after each match (content mode)"),
  head_limit: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(`Show at most this many lines of output (default ${DEFAULT_HEAD_LIMIT})`),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Searches file contents with a regular expression (ripgrep), honouring .gitignore.

- Use it instead of running grep or rg with bash. Syntax is ripgrep's: escape literal braces and parentheses (\`interface\\{\\}\`, \`foo\\(\`).
- output_mode files_with_matches (default) lists matching files, newest first; content shows matching lines as path:line:text (add context for surrounding lines); count gives matches per file.
- Narrow with path (a directory or file) and glob (\`*.ts\`, \`*.{js,jsx}\`, \`src/**/*.go\`).
- Patterns match within one line.
- For an open-ended search that may take many rounds, use the task tool instead.`;

function rel(path: string, cwd: string): string {
  return workspacePath(path, cwd);
}

function cut(text: string): string {
  const line = text.endsWith("\r") ? text.slice(0, -1) : text;
  return line.length <= MAX_LINE_CHARS
    ? line
    : `${line.slice(0, MAX_LINE_CHARS)} [… ${line.length} characters]`;
}

/** ripgrep's layout: `path:N:text` for matches, `path-N-text` for context, `--` between groups. */
function contentLines(files: readonly FileHits[], cwd: string, context: number): string[] {
  const out: string[] = [];
  for (const file of files) {
    const name = rel(file.path, cwd);
    let previous = -1;
    for (const line of file.lines) {
      if (context > 0 && out.length > 0 && line.number !== previous + 1) out.push("--");
      out.push(`${name}${line.match ? ":" : "-"}${line.number}${line.match ? ":" : "-"}${cut(line.text)}`);
      previous = line.number;
    }
  }
  return out;
}

function newestFirst(files: readonly FileHits[]): FileHits[] {
  const mtime = (path: string) => {
    try {
      return statSync(path).mtimeMs;
    } catch {
      return 0;
    }
  };
  const times = new Map(files.map((file) => [file.path, mtime(file.path)]));
  return [...files].sort((a, b) => times.get(b.path)! - times.get(a.path)! || (a.path < b.path ? -1 : 1));
}

function limited(lines: readonly string[], limit: number): string {
  if (lines.length <= limit) return lines.join("\n");
  return `${lines.slice(0, limit).join("\n")}\n(… ${lines.length - limit} more lines; narrow the search or raise head_limit)`;
}

function formatHits(files: readonly FileHits[], value: Input, cwd: string): ToolResult {
  const limit = value.head_limit ?? DEFAULT_HEAD_LIMIT;
  const total = files.reduce((sum, file) => sum + file.matches, 0);
  if (files.length === 0) return { content: "No matches found.", summary: "No matches" };
  const summary = `${total} match${total === 1 ? "" : "es"} in ${files.length} file${files.length === 1 ? "" : "s"}`;
  switch (value.output_mode) {
    case "files_with_matches": {
      const lines = newestFirst(files).map((file) => rel(file.path, cwd));
      return {
        content: `Found ${files.length} file${files.length === 1 ? "" : "s"}:\n${limited(lines, limit)}`,
        summary,
      };
    }
    case "count": {
      const lines = files.map((file) => `${rel(file.path, cwd)}:${file.matches}`);
      return { content: `${summary}:\n${limited(lines, limit)}`, summary };
    }
    case "content":
      return { content: limited(contentLines(files, cwd, value.context ?? 0), limit), summary };
  }
}

/** The grep tool; `engine` forces one implementation (tests compare them). */
export function createGrepTool(engine: GrepEngine | "auto" = "auto") {
  return defineTool<Input>({
    name: "grep",
    ruleName: "Grep",
    description: DESCRIPTION,
    input,
    readOnly: true,
    ruleSubject: (value, ctx) => pathSubject(value.path ?? ".", ctx.cwd),
    async run(value, ctx: ToolContext) {
      const root = confine(value.path ?? ".", ctx);
      try {
        statSync(root);
      } catch {
        throw missingFile(root, rel(root, ctx.cwd));
      }
      const files = await searchFiles(
        {
          pattern: value.pattern,
          root,
          cwd: ctx.cwd,
          ...(value.glob === undefined ? {} : { glob: value.glob }),
          ignoreCase: value.case_insensitive,
          context: value.output_mode === "content" ? (value.context ?? 0) : 0,
          env: ctx.env,
          signal: ctx.signal,
        },
        engine,
      );
      return formatHits(files, value, ctx.cwd);
    },
  });
}

export const grepTool = createGrepTool();
