/**
 * Reading a unified diff as `git diff` and `diff -u` print it, and as models write it: hunk line
 * counts may be wrong (a hunk ends where the next header starts), blank context lines may have lost
 * their leading space, and `@@` may come without line numbers (alone or followed by a context hint).
 */
import { A3sError } from "../../core/errors.ts";

export interface HunkLine {
  kind: " " | "-" | "+";
  text: string;
}

export interface Hunk {
  /** The `@@ … @@` line, for error messages. */
  header: string;
  /** 1-based; undefined for a bare `@@` (the hunk is searched for after the previous one). */
  oldStart?: number;
  oldCount?: number;
  newCount?: number;
  lines: HunkLine[];
  /** `\ No newline at end of file` after the old or the new side's last line. */
  oldNoNewline: boolean;
  newNoNewline: boolean;
}

export interface FilePatch {
  /** Workspace-relative paths as written (a/ and b/ prefixes removed); null for /dev/null. */
  oldPath: string | null;
  newPath: string | null;
  hunks: Hunk[];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function headerPath(raw: string): string | null {
  let path = raw.split("\t")[0]!.trimEnd();
  if (path.startsWith('"') && path.endsWith('"')) path = path.slice(1, -1).replace(/\\(["\\])/g, "$1");
  return path === "/dev/null" ? null : path;
}

/** git's a/ and b/ prefixes are dropped when the headers use them (both, or the one beside /dev/null). */
function stripPrefixes(oldPath: string | null, newPath: string | null): [string | null, string | null] {
  const oldPrefixed = oldPath === null || oldPath.startsWith("a/");
  const newPrefixed = newPath === null || newPath.startsWith("b/");
  if (!oldPrefixed || !newPrefixed) return [oldPath, newPath];
  return [oldPath?.slice(2) ?? null, newPath?.slice(2) ?? null];
}

const isFileHeader = (lines: readonly string[], i: number) =>
  lines[i]!.startsWith("--- ") && lines[i + 1]?.startsWith("+++ ") === true;

export function parsePatch(patch: string): FilePatch[] {
  const lines = patch.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  const files: FilePatch[] = [];
  let current: FilePatch | undefined;
  let i = 0;
  while (i < lines.length) {
    if (isFileHeader(lines, i)) {
      const [oldPath, newPath] = stripPrefixes(
        headerPath(lines[i]!.slice(4)),
        headerPath(lines[i + 1]!.slice(4)),
      );
      if (oldPath === null && newPath === null)
        throw new A3sError("usage", `file header at line ${i + 1} has /dev/null on both sides`);
      current = { oldPath, newPath, hunks: [] };
      files.push(current);
      i += 2;
    } else if (lines[i]!.startsWith("@@")) {
      if (current === undefined)
        throw new A3sError("usage", `hunk at line ${i + 1} comes before any ---/+++ file header`);
      const { hunk, next } = readHunk(lines, i);
      current.hunks.push(hunk);
      i = next;
    } else {
      // diff --git, index, mode and similarity lines, and prose around the diff.
      i++;
    }
  }
  if (files.length === 0)
    throw new A3sError(
      "usage",
      "no file headers found: a unified diff starts each file with --- and +++ lines",
    );
  return files;
}

function readHunk(lines: readonly string[], start: number): { hunk: Hunk; next: number } {
  const header = lines[start]!;
  const match = HUNK_HEADER.exec(header);
  const hunk: Hunk = { header, lines: [], oldNoNewline: false, newNoNewline: false };
  if (match) {
    hunk.oldStart = Number(match[1]);
    hunk.oldCount = match[2] === undefined ? 1 : Number(match[2]);
    hunk.newCount = match[4] === undefined ? 1 : Number(match[4]);
  } else if (header.startsWith("@@ -")) {
    throw new A3sError("usage", `malformed hunk header at line ${start + 1}: ${header}`);
  }
  let oldSeen = 0;
  let newSeen = 0;
  const countsDone = () =>
    hunk.oldCount === undefined || (oldSeen >= hunk.oldCount && newSeen >= (hunk.newCount ?? 0));
  let blanks = 0;
  let i = start + 1;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("@@") || line.startsWith("diff --git ")) break;
    // A removed line starting "-- " next to an added one starting "++ " looks like a file header;
    // trust the counts while they say the hunk goes on.
    if (isFileHeader(lines, i) && countsDone()) break;
    if (line.startsWith("\\")) {
      const last = hunk.lines.at(-1);
      if (last?.kind !== "+") hunk.oldNoNewline = true;
      if (last?.kind !== "-") hunk.newNoNewline = true;
      continue;
    }
    const kind = line === "" ? " " : line[0];
    if (kind !== " " && kind !== "-" && kind !== "+") break;
    blanks = line === "" ? blanks + 1 : 0;
    hunk.lines.push({ kind, text: line.slice(1) });
    if (kind !== "+") oldSeen++;
    if (kind !== "-") newSeen++;
  }
  // Empty lines closing a hunk are usually the gap before the next file; dropping trailing context
  // never stops a hunk from matching, so they go even when they were meant as blank lines.
  if (blanks > 0) hunk.lines.splice(hunk.lines.length - blanks);
  if (hunk.lines.length === 0) throw new A3sError("usage", `hunk at line ${start + 1} (${header}) is empty`);
  return { hunk, next: i };
}
