/** The ls tool: a directory as a tree with sizes, honouring .gitignore and the caller's ignores. */
import { lstatSync, readlinkSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import { nameOrPathGlob, type PathMatcher } from "./glob-pattern.ts";
import { confine, pathSubject, workspacePath } from "./paths.ts";
import { formatSize } from "./text-file.ts";
import { defineTool } from "./tool.ts";
import { walk } from "./walk.ts";

export const MAX_ENTRIES = 500;
/** Counting stops here, so a huge tree costs a bounded walk. */
const COUNT_LIMIT = 10_000;

const input = z.object({
  path: z.string().optional().describe("The directory to list (default: the workspace)"),
  ignore: z
    .array(z.string())
    .optional()
    .describe('Globs of entries to leave out, e.g. ["*.log", "fixtures"]'),
  depth: z
    .number()
    .int()
    .min(1)
    .max(10)
    .default(2)
    .describe("How many directory levels to show (default 2; 1 lists only the directory itself)"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Lists a directory as a tree: directories end with "/", files show their size, symlinks their target.

- Honours .gitignore and skips .git; leave out more with ignore globs.
- Shows ${MAX_ENTRIES} entries at most. To find files by name use glob; to search contents use grep.`;

function describeEntry(path: string, name: string, isDir: boolean, isLink: boolean): string {
  if (isLink) {
    let target = "?";
    try {
      target = readlinkSync(path);
    } catch {
      // Unreadable link: shown without its target.
    }
    return `${name} -> ${target}`;
  }
  if (isDir) return `${name}/`;
  const size = lstatSync(path, { throwIfNoEntry: false })?.size ?? 0;
  return `${name}  (${formatSize(size)})`;
}

async function listDirectory(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const root = confine(value.path ?? ".", ctx);
  const shownRoot = workspacePath(root, ctx.cwd);
  const stat = statSync(root, { throwIfNoEntry: false });
  if (stat === undefined) throw new A3sError("not_found", `${shownRoot} does not exist`);
  if (!stat.isDirectory())
    throw new A3sError("usage", `${shownRoot} is a file, not a directory`, { hint: "use read to see it" });
  const ignores: PathMatcher[] = (value.ignore ?? []).map(nameOrPathGlob);
  const lines: string[] = [];
  let total = 0;
  walk(root, {
    maxDepth: value.depth,
    stop: () => ctx.signal.aborted || total >= COUNT_LIMIT,
    visit: ({ path, name, dirent, depth }) => {
      const rel = relative(root, path).split(sep).join("/");
      if (ignores.some((matcher) => matcher.matches(rel, name))) return false;
      total++;
      if (lines.length < MAX_ENTRIES) {
        const line = describeEntry(path, name, dirent.isDirectory(), dirent.isSymbolicLink());
        lines.push(`${"  ".repeat(depth - 1)}${line}`);
      }
      return true;
    },
  });
  const header = `${root}/`;
  if (total === 0) return { content: `${header}\n(empty)`, summary: "0 entries" };
  const hidden = total >= COUNT_LIMIT ? "many" : String(total - MAX_ENTRIES);
  const more = total > MAX_ENTRIES ? `\n(${hidden} more entries not shown: list a subdirectory)` : "";
  return { content: `${header}\n${lines.join("\n")}${more}`, summary: `${total} entries` };
}

export const lsTool = defineTool<Input>({
  name: "ls",
  ruleName: "LS",
  description: DESCRIPTION,
  input,
  readOnly: true,
  ruleSubject: (value, ctx) => pathSubject(value.path ?? ".", ctx.cwd),
  run: listDirectory,
});
