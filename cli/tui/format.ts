/** Short strings the transcript and status line show: tool headers, money, tokens, durations. */

/** The input fields worth showing in a collapsed tool header, most telling first. */
const KEY_FIELDS = [
  "command",
  "file_path",
  "path",
  "pattern",
  "url",
  "query",
  "description",
  "prompt",
  "name",
];

/** "read" → "Read", "web_fetch" → "WebFetch", "mcp__github__search" → "github · search". */
export function toolTitle(name: string): string {
  if (name.startsWith("mcp__")) return name.slice(5).split("__").join(" · ");
  return name
    .split(/[_-]/)
    .map((part) => (part ? part[0]!.toUpperCase() + part.slice(1) : part))
    .join("");
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, " ⏎ ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The key argument of a call, shown in `● Read(src/a.ts)`. */
export function keyArgument(input: Record<string, unknown> | undefined, max = 80): string {
  if (!input) return "";
  for (const field of KEY_FIELDS) {
    const value = input[field];
    if (typeof value === "string" && value !== "") return oneLine(value, max);
  }
  const first = Object.values(input).find((value) => typeof value === "string" && value !== "");
  return typeof first === "string" ? oneLine(first, max) : "";
}

export function firstLine(text: string): string {
  const line = text.split("\n").find((candidate) => candidate.trim() !== "") ?? "";
  return line.trim();
}

export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatTokens(tokens: number): string {
  if (tokens < 1000) return String(tokens);
  if (tokens < 1_000_000) return `${(tokens / 1000).toFixed(tokens < 10_000 ? 1 : 0)}k`;
  return `${(tokens / 1_000_000).toFixed(1)}M`;
}

export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

export function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

export function contextPercent(tokens: number, window: number): number | undefined {
  if (window <= 0) return undefined;
  return Math.min(100, Math.round((tokens / window) * 100));
}
