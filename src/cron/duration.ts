/** Durations as people type them for --timeout: 90 (seconds), 30s, 5m, 1h30m, 500ms. */
import { A3sError } from "../core/errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or null for "0"/"none" (no timeout). */
export function parseDuration(text: string, what = "duration"): number | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === "0" || trimmed === "none") return null;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) {
    throw new A3sError("usage", `invalid ${what} '${text}'`, {
      hint: "examples: 90 (seconds), 30s, 5m, 1h30m, 500ms, none",
    });
  }
  return Math.round(
    parts.reduce((sum, [, value, unit]) => sum + Number(value) * (UNITS[unit ?? "s"] ?? 1000), 0),
  );
}

/** 1h30m, 45s, 120ms: the shortest exact spelling. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join("");
}
