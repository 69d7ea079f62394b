/** The write tool: a whole file, created or replaced atomically, shown as a diff of what changed. */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { ToolContext, ToolResult } from "../types.ts";
import { diffSummary, unifiedDiff } from "./diff.ts";
import { checkUnchanged, rememberFile } from "./file-state.ts";
import { confine, pathSubject, realPathOf, workspacePath } from "./paths.ts";
import { lineCount, refuseBinary, replaceFile, statFile } from "./text-file.ts";
import { defineTool } from "./tool.ts";

const input = z.object({
  file_path: z.string().describe("The file to write: relative to the workspace, or absolute"),
  content: z.string().describe("The complete new content of the file"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Writes a whole file: creates it (with any missing parent directories) or replaces all of its content.

- To change part of an existing file use edit instead: it is safer and sends only the change.
- Read an existing file before replacing it, so nothing in it is lost by accident.
- Do not create documentation files (README, *.md) unless the user asks for them.`;

async function writeFile(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const path = confine(value.file_path, ctx);
  const shown = workspacePath(path, ctx.cwd);
  // Through a symlink the link stays a link: its target is what gets the new content.
  const target = realPathOf(path);
  const stat = statFile(target, shown);
  let previous: string | undefined;
  if (stat !== undefined) {
    refuseBinary(target, shown, stat.size);
    checkUnchanged(ctx, target, shown);
    previous = readFileSync(target, "utf8");
  }
  replaceFile(target, value.content, stat);
  rememberFile(ctx, target);
  const diff = unifiedDiff(previous ?? "", value.content, {
    oldPath: previous === undefined ? null : shown,
    newPath: shown,
  });
  const lines = lineCount(value.content);
  const what =
    previous === undefined
      ? `Created ${shown} (${lines} lines)`
      : previous === value.content
        ? `${shown} already had this content`
        : `Wrote ${shown} (${lines} lines; ${diffSummary(previous, value.content)})`;
  return { content: what, summary: what, display: { kind: "diff", path: shown, diff } };
}

export const writeTool = defineTool<Input>({
  name: "write",
  ruleName: "Write",
  description: DESCRIPTION,
  input,
  readOnly: false,
  ruleSubject: (value, ctx) => pathSubject(value.file_path, ctx.cwd),
  run: writeFile,
});
