/** Reading a3s's own log lines back, to split a benchmarked run into its phases. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Lines of the a3s logs in `dir` that match `pattern` and were written between `from` and `to`
 * (wall-clock ms). The pattern's first group must capture the line's ISO timestamp.
 */
export function logMatchesBetween(dir: string, pattern: RegExp, from: number, to: number): RegExpExecArray[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith(".log"));
  } catch {
    return [];
  }
  const found: RegExpExecArray[] = [];
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
      const match = pattern.exec(line);
      if (!match) continue;
      const wall = Date.parse(match[1] ?? "");
      if (wall >= from - 1 && wall <= to + 1) found.push(match);
    }
  }
  return found;
}
