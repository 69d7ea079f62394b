/**
 * Line diffs (Myers' O(ND) algorithm) and unified diff text, for the edit tools' displays and the
 * patch tool's tests. Lines keep their terminators, so a lost final newline is a change too.
 */

export type DiffOp = { kind: "equal" | "delete" | "insert"; line: string };

/** Beyond this many differing lines the diff stops looking for a minimal script (memory is D²). */
const MAX_EDIT_DISTANCE = 2_000;

/** Splits text into lines that keep their "\n"; the last one has none when the text lacks it. */
export function splitLinesKeep(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n").map((line) => `${line}\n`);
  const last = lines.length - 1;
  if (text.endsWith("\n")) lines.pop();
  else lines[last] = lines[last]!.slice(0, -1);
  return lines;
}

export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map((line): DiffOp => ({ kind: "equal", line }));
  const tail = a.slice(endA).map((line): DiffOp => ({ kind: "equal", line }));
  return [...head, ...myers(a.slice(start, endA), b.slice(start, endB)), ...tail];
}

function myers(a: readonly string[], b: readonly string[]): DiffOp[] {
  const n = a.length;
  const m = b.length;
  const replaceAll = (): DiffOp[] => [
    ...a.map((line): DiffOp => ({ kind: "delete", line })),
    ...b.map((line): DiffOp => ({ kind: "insert", line })),
  ];
  if (n === 0 || m === 0) return replaceAll();
  const offset = n + m + 1;
  const v = new Int32Array(2 * offset + 1);
  // trace[d] holds v for k in [-d, d] as it was when round d started.
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= Math.min(n + m, MAX_EDIT_DISTANCE) && found < 0; d++) {
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!);
      let x = down ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return replaceAll();
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const before = trace[d]!;
    const at = (k: number) => before[k + d]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    for (; x > prevX && y > prevY; x--, y--) ops.push({ kind: "equal", line: a[x - 1]! });
    if (down) ops.push({ kind: "insert", line: b[prevY]! });
    else ops.push({ kind: "delete", line: a[prevX]! });
    x = prevX;
    y = prevY;
  }
  for (; x > 0 && y > 0; x--, y--) ops.push({ kind: "equal", line: a[x - 1]! });
  return ops.reverse();
}

export interface DiffStat {
  added: number;
  removed: number;
}

export function diffStat(oldText: string, newText: string): DiffStat {
  const ops = diffLines(splitLinesKeep(oldText), splitLinesKeep(newText));
  return {
    added: ops.filter((op) => op.kind === "insert").length,
    removed: ops.filter((op) => op.kind === "delete").length,
  };
}

export interface UnifiedOptions {
  /** Shown as a/<path> and b/<path>; null on one side means the file is created or deleted. */
  oldPath: string | null;
  newPath: string | null;
  context?: number;
}

/** A unified diff with `---`/`+++` headers, or "" when the texts are equal. */
export function unifiedDiff(oldText: string, newText: string, options: UnifiedOptions): string {
  const context = options.context ?? 3;
  const ops = diffLines(splitLinesKeep(oldText), splitLinesKeep(newText));
  const hunks = groupHunks(ops, context);
  if (hunks.length === 0) return "";
  const header = [
    `--- ${options.oldPath === null ? "/dev/null" : `a/${options.oldPath}`}`,
    `+++ ${options.newPath === null ? "/dev/null" : `b/${options.newPath}`}`,
  ];
  return `${[...header, ...hunks.flatMap((hunk) => renderHunk(ops, hunk))].join("\n")}\n`;
}

interface HunkRange {
  from: number;
  to: number;
  oldStart: number;
  newStart: number;
}

function groupHunks(ops: readonly DiffOp[], context: number): HunkRange[] {
  const hunks: HunkRange[] = [];
  let oldLine = 0;
  let newLine = 0;
  const positions = ops.map((op) => {
    const at = { old: oldLine, new: newLine };
    if (op.kind !== "insert") oldLine++;
    if (op.kind !== "delete") newLine++;
    return at;
  });
  for (let i = 0; i < ops.length; i++) {
    if (ops[i]!.kind === "equal") continue;
    const from = Math.max(0, i - context);
    let end = i;
    // Extend over further changes closer than two contexts apart: they share one hunk.
    for (let j = i + 1; j < ops.length && j <= end + 2 * context; j++) if (ops[j]!.kind !== "equal") end = j;
    const to = Math.min(ops.length, end + context + 1);
    const previous = hunks.at(-1);
    if (previous && from <= previous.to) previous.to = to;
    else hunks.push({ from, to, oldStart: positions[from]!.old, newStart: positions[from]!.new });
    i = end;
  }
  return hunks;
}

function renderHunk(ops: readonly DiffOp[], hunk: HunkRange): string[] {
  const slice = ops.slice(hunk.from, hunk.to);
  const oldCount = slice.filter((op) => op.kind !== "insert").length;
  const newCount = slice.filter((op) => op.kind !== "delete").length;
  // A zero-length side is numbered by the line before it, as GNU diff does.
  const range = (start: number, count: number) => `${count === 0 ? start : start + 1},${count}`;
  const lines = [`@@ -${range(hunk.oldStart, oldCount)} +${range(hunk.newStart, newCount)} @@`];
  for (const op of slice) {
    const mark = op.kind === "equal" ? " " : op.kind === "delete" ? "-" : "+";
    const text = op.line.endsWith("\n") ? op.line.slice(0, -1) : op.line;
    lines.push(`${mark}${text.endsWith("\r") ? text.slice(0, -1) : text}`);
    if (!op.line.endsWith("\n")) lines.push("\\ No newline at end of file");
  }
  return lines;
}

/** "+3 -1": the lines an edit added and removed, for one-line summaries. */
export function diffSummary(oldText: string, newText: string): string {
  const { added, removed } = diffStat(oldText, newText);
  return `+${added} -${removed}`;
}
