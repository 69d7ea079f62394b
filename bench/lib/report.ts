/**
 * Side-by-side tables for benchmarks: a3s against a reference tool measured in the same run, with a
 * verdict per target. A missed target prints MISSED; it never changes the exit code.
 */

export interface Stats {
  median: number;
  min: number;
  p90: number;
}

export interface Row {
  label: string;
  a3s?: Stats;
  ref?: Stats;
  /**
   * "ratio": a3s/ref median must be ≤ value; "ms": a3s median must be < value; "overhead": a3s median
   * minus ref median must be < value (ms).
   */
  target?: { kind: "ratio" | "ms" | "overhead"; value: number };
  /** Shown instead of the a3s figures when the case could not run. */
  unavailable?: string;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))] ?? 0;
  return { median, min: sorted[0] ?? 0, p90 };
}

const LABEL_WIDTH = 40;
const TIME_WIDTH = 9;
const RATIO_WIDTH = 7;

function line(cells: string[], verdict: string): string {
  const last = cells.length - 1;
  const padded = cells.map((cell, i) =>
    i === 0 ? cell.padEnd(LABEL_WIDTH) : cell.padStart(i === last ? RATIO_WIDTH : TIME_WIDTH),
  );
  return `${padded.join("")}  ${verdict}`.trimEnd();
}

function verdict(row: Row, ratio: number | undefined): string {
  const target = row.target;
  if (target?.kind === "ratio") {
    if (ratio === undefined) return "not measured";
    const ok = ratio <= target.value;
    return `${ok ? "≤" : ">"} ${target.value}× ${ok ? "ok" : "MISSED"}`;
  }
  if (target?.kind === "ms") {
    if (row.a3s === undefined) return "not measured";
    const ok = row.a3s.median < target.value;
    return `${ok ? "<" : "≥"} ${target.value} ${ok ? "ok" : "MISSED"}`;
  }
  if (target?.kind === "overhead") {
    if (row.a3s === undefined || row.ref === undefined) return "not measured";
    const overhead = row.a3s.median - row.ref.median;
    const ok = overhead < target.value;
    return `+${overhead.toFixed(1)} ${ok ? "<" : "≥"} ${target.value} ${ok ? "ok" : "MISSED"}`;
  }
  return "";
}

export interface TableOptions {
  /** Adds a p90 column after the min of a3s and of the reference. */
  p90?: boolean;
}

/** Times in ms; the ratio is a3s median / reference median. */
export function formatTable(title: string, rows: readonly Row[], options: TableOptions = {}): string {
  const ms = (value: number | undefined) => (value === undefined ? "—" : value.toFixed(1));
  const figures = (stats: Stats | undefined, unavailable?: string) => {
    const values = options.p90 ? [stats?.median, stats?.min, stats?.p90] : [stats?.median, stats?.min];
    return values.map((value) => unavailable ?? ms(value));
  };
  const header = (who: string) => [`${who} med`, `${who} min`, ...(options.p90 ? [`${who} p90`] : [])];
  const lines = [title, line(["case", ...header("a3s"), ...header("ref"), "ratio"], "target")];
  for (const row of rows) {
    const ratio = row.a3s && row.ref ? row.a3s.median / row.ref.median : undefined;
    const cells = [
      row.label,
      ...figures(row.a3s, row.unavailable),
      ...figures(row.ref),
      ratio === undefined ? "—" : `${ratio.toFixed(2)}×`,
    ];
    lines.push(line(cells, verdict(row, ratio)));
  }
  return lines.join("\n");
}
