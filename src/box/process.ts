/** Process identity on Linux: a pid plus its start time, so a reused pid is never mistaken for ours. */
import { readFileSync } from "node:fs";

/** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined if gone. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

export function isSameProcessAlive(pid: number | undefined, start: number | undefined): boolean {
  if (pid === undefined) return false;
  const now = processStartTime(pid);
  if (now === undefined) return false;
  if (start !== undefined && now !== start) return false;
  // A zombie still has a /proc entry but is not running anything.
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8");
    return state.slice(state.lastIndexOf(")") + 2, state.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
