/**
 * Why an edit's old_string was not found, in words the model can act on: it exists with other
 * whitespace, it carries read's line-number prefixes, or here are the lines that come closest.
 */
import { numbered } from "./text-file.ts";

const normalize = (line: string) => line.trim().replace(/\s+/g, " ");

/** Sørensen–Dice similarity of character bigrams, 0..1. */
function similarity(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const counts = new Map<string, number>();
  for (let i = 0; i < a.length - 1; i++) {
    const pair = a.slice(i, i + 2);
    counts.set(pair, (counts.get(pair) ?? 0) + 1);
  }
  let shared = 0;
  for (let i = 0; i < b.length - 1; i++) {
    const pair = b.slice(i, i + 2);
    const left = counts.get(pair) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(pair, left - 1);
    }
  }
  return (2 * shared) / (a.length + b.length - 2);
}

/** Lines compared are cut to this many characters: minified lines would make the search slow. */
const COMPARE_CHARS = 300;
const CANDIDATES = 5;
const MIN_SIMILARITY = 0.5;

function excerpt(lines: readonly string[], start: number, count: number): string {
  return lines
    .slice(start, start + count)
    .map((line, i) => numbered(start + i + 1, line))
    .join("\n");
}

export function notFoundHint(text: string, oldString: string): string {
  const wanted = oldString.split("\n");
  while (wanted.length > 1 && wanted.at(-1)!.trim() === "") wanted.pop();
  while (wanted.length > 1 && wanted[0]!.trim() === "") wanted.shift();
  if (wanted.some((line) => /^\s*\d+\t/.test(line))) {
    return "old_string seems to include line-number prefixes from read (spaces, a number, a tab): leave them out.";
  }
  const lines = text.split("\n");
  const target = wanted.map((line) => normalize(line).slice(0, COMPARE_CHARS));
  const normalized = lines.map((line) => normalize(line).slice(0, COMPARE_CHARS));
  const k = target.length;
  for (let i = 0; i + k <= lines.length; i++) {
    if (target.every((line, j) => normalized[i + j] === line)) {
      return `It does exist with different whitespace or indentation at line ${i + 1}; copy old_string exactly from these lines:\n${excerpt(lines, i, k)}`;
    }
  }
  // Start lines that look most like old_string's first line, then the best window among them.
  const starts = normalized
    .map((line, i) => ({ i, score: similarity(line, target[0]!) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, CANDIDATES);
  let best = { i: -1, score: 0 };
  for (const { i } of starts) {
    const count = Math.min(k, lines.length - i);
    let total = 0;
    for (let j = 0; j < count; j++) total += similarity(normalized[i + j]!, target[j]!);
    const score = total / k;
    if (score > best.score) best = { i, score };
  }
  if (best.i < 0 || best.score < MIN_SIMILARITY) return "";
  return `The closest lines are:\n${excerpt(lines, best.i, Math.min(k, lines.length - best.i))}`;
}
