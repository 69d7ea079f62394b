/** The glob tool: files by name pattern, honouring .gitignore, most recently modified first. */
import { statSync } from "node:fs";
import { relative, sep } from "node:path";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import { pathGlob } from "./glob-pattern.ts";
import { confine, pathSubject, workspacePath } from "./paths.ts";
import { defineTool } from "./tool.ts";
import { walk } from "./walk.ts";

export const MAX_RESULTS = 100;

const input = z.object({
  pattern: z
    .string()
    .min(1)
    .describe("The glob to match, relative to path: `**/*.ts`, `src/**/*.{js,jsx}`, `*.md`"),
  path: z.string().optional().describe("The directory to search in (default: the workspace)"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Finds files by name with a glob pattern, honouring .gitignore; the most recently modified come first.

- Patterns are relative to path (default the workspace): \`**/*.ts\` (any depth), \`src/*.ts\` (one level), \`*.{json,yaml}\`, \`**/test_*.py\`.
- Returns at most ${MAX_RESULTS} paths. Use it instead of find or ls -R; use grep to search file contents.`;

async function findFiles(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const root = confine(value.path ?? ".", ctx);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // Reported below.
  }
  if (!isDir) throw new A3sError("not_found", `${workspacePath(root, ctx.cwd)} is not a directory`);
  const matcher = pathGlob(value.pattern.startsWith("/") ? relative(root, value.pattern) : value.pattern);
  const found: Array<{ path: string; mtime: number }> = [];
  walk(root, {
    stop: () => ctx.signal.aborted,
    visit: ({ path, dirent }) => {
      if (!dirent.isFile()) return;
      if (!matcher.matches(relative(root, path).split(sep).join("/"), dirent.name)) return;
      found.push({ path, mtime: statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 });
    },
  });
  if (found.length === 0) return { content: "No files found.", summary: "No files" };
  found.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? -1 : 1));
  const shown = found.slice(0, MAX_RESULTS).map((file) => workspacePath(file.path, ctx.cwd));
  const more =
    found.length > MAX_RESULTS
      ? `\n(${found.length - MAX_RESULTS} more not shown: use a narrower pattern or path)`
      : "";
  const summary = `${found.length} file${found.length === 1 ? "" : "s"}`;
  return { content: `${shown.join("\n")}${more}`, summary };
}

export const globTool = defineTool<Input>({
  name: "glob",
  ruleName: "Glob",
  description: DESCRIPTION,
  input,
  readOnly: true,
  ruleSubject: (value, ctx) => pathSubject(value.path ?? ".", ctx.cwd),
  run: findFiles,
});
