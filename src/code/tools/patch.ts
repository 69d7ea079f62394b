/**
 * The patch tool: a unified diff over one or more files, applied all or nothing. Every hunk is
 * located and applied in memory first; only when all fit are the files written (and restored if a
 * write fails). A hunk may sit a few lines from where its header says, never differ in content.
 */
import { readFileSync, rmSync, type Stats } from "node:fs";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import { diffSummary, unifiedDiff } from "./diff.ts";
import { checkUnchanged, rememberFile } from "./file-state.ts";
import { type FilePatch, type Hunk, parsePatch } from "./patch-parse.ts";
import { confine, pathSubject, realPathOf, workspacePath } from "./paths.ts";
import { refuseBinary, replaceFile, statFile, textForm } from "./text-file.ts";
import { defineTool } from "./tool.ts";

const input = z.object({
  patch: z
    .string()
    .describe("A unified diff: per file a `--- a/path` and a `+++ b/path` header followed by @@ hunks"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Applies a unified diff (the format of git diff and diff -u) to one or more files: either every hunk applies or nothing is written.

- Per file: a "--- a/path" line and a "+++ b/path" line (paths relative to the workspace), then hunks "@@ -start,count +start,count @@" whose lines begin with " " (context), "-" (removed) or "+" (added).
- Give about 3 lines of context around each change. Context and removed lines must match the file exactly; the line numbers may be off, nearby lines are searched.
- Create a file with "--- /dev/null", delete one with "+++ /dev/null", rename one by giving two different paths.
- Use it for changes to several places or files at once; for one small change edit is simpler.`;

/** One file as the patch sees it: its content before and after, null when absent. */
interface Change {
  path: string;
  shown: string;
  before: string | null;
  after: string | null;
  stat: Stats | undefined;
  restore: (text: string) => string;
}

function hunkName(index: number, shown: string, hunk: Hunk): string {
  return `hunk ${index + 1} of ${shown} (${hunk.header})`;
}

function sameAt(lines: readonly string[], at: number, wanted: readonly string[]): boolean {
  for (let j = 0; j < wanted.length; j++) if (lines[at + j] !== wanted[j]) return false;
  return true;
}

/** The position of `wanted` at or after `floor` nearest to `expected`, or -1. */
function locate(
  lines: readonly string[],
  wanted: readonly string[],
  expected: number,
  floor: number,
): number {
  const last = lines.length - wanted.length;
  for (let distance = 0; ; distance++) {
    const below = expected - distance;
    const above = expected + distance;
    if (below < floor && above > last) return -1;
    if (above >= floor && above <= last && sameAt(lines, above, wanted)) return above;
    if (distance > 0 && below >= floor && below <= last && sameAt(lines, below, wanted)) return below;
  }
}

function mismatch(lines: readonly string[], wanted: readonly string[], expected: number): string {
  const normalize = (line: string) => line.trim().replace(/\s+/g, " ");
  const loose = wanted.map(normalize);
  for (let at = 0; at + wanted.length <= lines.length; at++) {
    if (loose.every((line, j) => normalize(lines[at + j]!) === line))
      return `the lines exist at line ${at + 1} with different whitespace; context and removed lines must match exactly`;
  }
  const at = Math.max(0, Math.min(expected, lines.length - 1));
  for (let j = 0; j < wanted.length; j++) {
    if (lines[at + j] !== wanted[j]) {
      const found = lines[at + j] === undefined ? "the end of the file" : JSON.stringify(lines[at + j]);
      return `at line ${at + j + 1} the file has ${found} where the hunk expects ${JSON.stringify(wanted[j])}`;
    }
  }
  return "its lines are not in the file";
}

/** Applies hunks to LF text; the error names the hunk that does not fit and why. */
export function applyHunks(text: string, hunks: readonly Hunk[], shown: string): string {
  const lines = text === "" ? [] : text.split("\n");
  let newline = text === "" || text.endsWith("\n");
  if (newline && lines.length > 0) lines.pop();
  let floor = 0;
  let shift = 0;
  hunks.forEach((hunk, index) => {
    const before = hunk.lines.filter((line) => line.kind !== "+").map((line) => line.text);
    const after = hunk.lines.filter((line) => line.kind !== "-").map((line) => line.text);
    // Where the header puts the hunk in the original file: a pure insertion's start is the line
    // it goes after, otherwise the first line it covers. A bare @@ goes after the previous hunk.
    const origin = hunk.oldStart === undefined ? undefined : hunk.oldStart - (before.length === 0 ? 0 : 1);
    const start = origin === undefined ? floor : origin + shift;
    const at =
      before.length === 0
        ? Math.min(Math.max(start, floor), lines.length)
        : locate(lines, before, Math.max(start, floor), floor);
    if (at < 0) {
      throw new A3sError(
        "conflict",
        `${hunkName(index, shown, hunk)} does not apply: ${mismatch(lines, before, start)}`,
        { hint: "read the file to see its current content, then fix the hunk; nothing was written" },
      );
    }
    lines.splice(at, before.length, ...after);
    floor = at + after.length;
    // Later hunks move by as much as this one was found away from its header, plus its growth.
    if (origin !== undefined) shift = at + after.length - (origin + before.length);
    if (at + after.length >= lines.length) {
      if (hunk.newNoNewline) newline = false;
      else if (hunk.oldNoNewline) newline = true;
    }
  });
  if (lines.length === 0) return "";
  return `${lines.join("\n")}${newline ? "\n" : ""}`;
}

function readChange(path: string, ctx: ToolContext, changes: Map<string, Change>): Change {
  const target = realPathOf(path);
  const known = changes.get(target);
  if (known) return known;
  const shown = workspacePath(path, ctx.cwd);
  const stat = statFile(target, shown);
  if (stat === undefined) {
    const change: Change = { path: target, shown, before: null, after: null, stat, restore: (text) => text };
    changes.set(target, change);
    return change;
  }
  refuseBinary(target, shown, stat.size);
  checkUnchanged(ctx, target, shown);
  const before = readFileSync(target, "utf8");
  const form = textForm(before);
  const change: Change = { path: target, shown, before, after: form.text, stat, restore: form.restore };
  changes.set(target, change);
  return change;
}

/** Works out every file's new content; throws before anything is written when a hunk does not fit. */
function planPatch(files: readonly FilePatch[], ctx: ToolContext): Change[] {
  const changes = new Map<string, Change>();
  for (const file of files) {
    const source = file.oldPath === null ? undefined : readChange(confine(file.oldPath, ctx), ctx, changes);
    const dest = file.newPath === null ? undefined : readChange(confine(file.newPath, ctx), ctx, changes);
    const name = (dest ?? source)!.shown;
    if (source === undefined) {
      if (dest!.after !== null && dest!.after !== "")
        throw new A3sError("conflict", `${name} already exists; the patch creates it from /dev/null`);
      dest!.after = applyHunks("", file.hunks, name);
      continue;
    }
    if (source.after === null) throw new A3sError("not_found", `${source.shown} does not exist`);
    const result = applyHunks(source.after, file.hunks, source.shown);
    if (dest === undefined) {
      if (result !== "")
        throw new A3sError(
          "conflict",
          `the patch deletes ${source.shown} but its hunks do not remove all of it`,
        );
      source.after = null;
    } else if (dest === source) {
      source.after = result;
    } else {
      if (dest.after !== null)
        throw new A3sError("conflict", `cannot rename ${source.shown} to ${dest.shown}: it already exists`);
      dest.after = result;
      dest.restore = source.restore;
      source.after = null;
    }
  }
  return [...changes.values()].filter(
    (change) => change.after !== (change.before === null ? null : textForm(change.before).text),
  );
}

function writeChanges(changes: readonly Change[], ctx: ToolContext): void {
  const done: Change[] = [];
  try {
    for (const change of changes) {
      if (change.after === null) rmSync(change.path, { force: true });
      else replaceFile(change.path, change.restore(change.after), change.stat);
      done.push(change);
    }
  } catch (err) {
    for (const change of done.reverse()) {
      if (change.before === null) rmSync(change.path, { force: true });
      else replaceFile(change.path, change.before, change.stat);
    }
    throw err;
  }
  for (const change of changes) if (change.after !== null) rememberFile(ctx, change.path);
}

function describeChange(change: Change): string {
  const after = change.after === null ? "" : change.restore(change.after);
  const stat = diffSummary(change.before ?? "", after);
  if (change.before === null) return `A ${change.shown} (${stat})`;
  if (change.after === null) return `D ${change.shown} (${stat})`;
  return `M ${change.shown} (${stat})`;
}

async function applyPatch(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const changes = planPatch(parsePatch(value.patch), ctx);
  if (changes.length === 0) return { content: "The patch changes nothing.", summary: "No changes" };
  writeChanges(changes, ctx);
  const diff = changes
    .map((change) =>
      unifiedDiff(change.before ?? "", change.after === null ? "" : change.restore(change.after), {
        oldPath: change.before === null ? null : change.shown,
        newPath: change.after === null ? null : change.shown,
      }),
    )
    .join("");
  const lines = changes.map(describeChange);
  const files = changes.length === 1 ? changes[0]!.shown : `${changes.length} files`;
  return {
    content: `Applied the patch:\n${lines.join("\n")}`,
    summary: `Patched ${files}`,
    display: { kind: "diff", path: files, diff },
  };
}

/** Every path the patch touches, one per line: a rule must match each of them. */
function patchSubject(value: Input, cwd: string): string | undefined {
  try {
    const paths = parsePatch(value.patch).flatMap((file) => [file.oldPath, file.newPath]);
    const subjects = paths.flatMap((path) => (path === null ? [] : [pathSubject(path, cwd) ?? ""]));
    return [...new Set(subjects)].join("\n") || undefined;
  } catch {
    return undefined;
  }
}

export const patchTool = defineTool<Input>({
  name: "patch",
  ruleName: "Edit",
  description: DESCRIPTION,
  input,
  readOnly: false,
  ruleSubject: (value, ctx) => patchSubject(value, ctx.cwd),
  run: applyPatch,
});
