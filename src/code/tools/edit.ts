/**
 * The edit tool: exact string replacement. The text to replace must occur exactly once (or every
 * occurrence is replaced on request), so an edit never lands somewhere the model did not mean.
 * Matching happens on LF text; the file keeps its CRLF endings, BOM and mode.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import { diffSummary, unifiedDiff } from "./diff.ts";
import { notFoundHint } from "./edit-hints.ts";
import { checkUnchanged, rememberFile } from "./file-state.ts";
import { confine, pathSubject, realPathOf, workspacePath } from "./paths.ts";
import { missingFile, numbered, refuseBinary, replaceFile, statFile, textForm } from "./text-file.ts";
import { defineTool } from "./tool.ts";

const input = z.object({
  file_path: z.string().describe("The file to edit: relative to the workspace, or absolute"),
  old_string: z
    .string()
    .describe("The exact text to replace, including its indentation; empty only to create a new file"),
  new_string: z.string().describe("The text to put in its place (must differ from old_string)"),
  replace_all: z
    .boolean()
    .default(false)
    .describe("Replace every occurrence of old_string instead of requiring exactly one"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Replaces exact text in a file.

- old_string must match the file exactly, whitespace and indentation included, and occur exactly once; add surrounding lines to make it unique, or set replace_all to change every occurrence (e.g. renaming a variable).
- Read the file first. Copy text from read's output without the line-number prefix (spaces, number, tab).
- Keep edits small: old_string needs only enough context to be unique.
- An empty old_string creates a new file with new_string as its content.
- Use write to replace a whole file and patch to change several places or files in one step.`;

/** Line numbers (1-based) of each occurrence of `needle`. */
function occurrences(text: string, needle: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let scanned = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
    for (let i = text.indexOf("\n", scanned); i >= 0 && i < at; i = text.indexOf("\n", i + 1)) line++;
    scanned = at;
    lines.push(line);
  }
  return lines;
}

/** The edited region with a few lines around it, numbered, so the model sees the result. */
function snippet(text: string, firstLine: number, changedLines: number): string {
  const lines = text.split("\n");
  const from = Math.max(1, firstLine - 3);
  const to = Math.min(lines.length, firstLine + changedLines + 2);
  return lines
    .slice(from - 1, to)
    .map((line, i) => numbered(from + i, line))
    .join("\n");
}

function createFile(path: string, shown: string, content: string, ctx: ToolContext): ToolResult {
  replaceFile(path, content, undefined);
  rememberFile(ctx, path);
  const diff = unifiedDiff("", content, { oldPath: null, newPath: shown });
  return {
    content: `Created ${shown}`,
    summary: `Created ${shown}`,
    display: { kind: "diff", path: shown, diff },
  };
}

async function editFile(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const path = confine(value.file_path, ctx);
  const shown = workspacePath(path, ctx.cwd);
  const target = realPathOf(path);
  const stat = statFile(target, shown);
  if (value.old_string === value.new_string)
    throw new A3sError("usage", "old_string and new_string are the same: there is nothing to change");
  if (stat === undefined) {
    if (value.old_string === "") return createFile(target, shown, value.new_string, ctx);
    throw missingFile(target, shown);
  }
  refuseBinary(target, shown, stat.size);
  checkUnchanged(ctx, target, shown);
  const raw = readFileSync(target, "utf8");
  const form = textForm(raw);
  if (value.old_string === "") {
    if (form.text !== "")
      throw new A3sError("usage", `old_string is empty but ${shown} already has content`, {
        hint: "give the exact text to replace, or use write to replace the whole file",
      });
    replaceFile(target, form.restore(value.new_string), stat);
    rememberFile(ctx, target);
    return { content: `Wrote ${shown}`, summary: `Wrote ${shown}` };
  }
  const oldString = value.old_string.replaceAll("\r\n", "\n");
  const newString = value.new_string.replaceAll("\r\n", "\n");
  const found = occurrences(form.text, oldString);
  if (found.length === 0) {
    const hint = notFoundHint(form.text, oldString);
    throw new A3sError("not_found", `old_string was not found in ${shown}.${hint ? `\n${hint}` : ""}`, {
      hint: "read the file again and copy the text exactly",
    });
  }
  if (found.length > 1 && !value.replace_all) {
    throw new A3sError(
      "conflict",
      `old_string occurs ${found.length} times in ${shown} (lines ${found.join(", ")})`,
      { hint: "add surrounding lines to old_string so it matches once, or set replace_all to change all" },
    );
  }
  const updated = value.replace_all
    ? form.text.split(oldString).join(newString)
    : form.text.replace(oldString, () => newString);
  const output = form.restore(updated);
  replaceFile(target, output, stat);
  rememberFile(ctx, target);
  const diff = unifiedDiff(raw, output, { oldPath: shown, newPath: shown });
  const count = value.replace_all
    ? `${found.length} occurrence${found.length === 1 ? "" : "s"}`
    : "1 occurrence";
  const firstLine = found[0]!;
  const result = `Edited ${shown}: replaced ${count}. The result around line ${firstLine}:\n${snippet(updated, firstLine, newString.split("\n").length)}`;
  return {
    content: result,
    summary: `Edited ${shown} (${diffSummary(raw, output)})`,
    display: { kind: "diff", path: shown, diff },
  };
}

export const editTool = defineTool<Input>({
  name: "edit",
  ruleName: "Edit",
  description: DESCRIPTION,
  input,
  readOnly: false,
  ruleSubject: (value, ctx) => pathSubject(value.file_path, ctx.cwd),
  run: editFile,
});
