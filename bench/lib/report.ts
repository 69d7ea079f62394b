/**
 * Side-by-side tables for benchmarks: a3s against a reference tool measured in the same run, with a
 * verdict per target. A missed target prints MISSED; it never changes the exit code.
 */

export interface Stats {
  median: number;
  min: number;
}

export interface Row {
  label: string;
  a3s?: Stats;
  ref?: Stats;
  /** "ratio": a3s/ref median must be ≤ value; "ms": a3s median must be < value. */
  target?: { kind: "ratio" | "ms"; value: number };
  /** Shown instead of the a3s figures when the case could not run. */
  unavailable?: string;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0 };
}

const WIDTHS = [40, 9, 9, 9, 9, 7];

function line(cells: string[], verdict: string): string {
  const padded = cells.map((cell, i) =>
    i === 0 ? cell.padEnd(WIDTHS[0] ?? 0) : cell.padStart(WIDTHS[i] ?? 0),
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
  return "";
}

/** Times in ms; the ratio is a3s median / reference median. */
export function formatTable(title: string, rows: readonly Row[]): string {
  const ms = (value: number | undefined) => (value === undefined ? "—" : value.toFixed(1));
  const lines = [title, line(["case", "a3s med", "a3s min", "ref med", "ref min", "ratio"], "target")];
  for (const row of rows) {
    const ratio = row.a3s && row.ref ? row.a3s.median / row.ref.median : undefined;
    const a3s = row.unavailable
      ? [row.unavailable, row.unavailable]
      : [ms(row.a3s?.median), ms(row.a3s?.min)];
    const cells = [
      row.label,
      ...a3s,
      ms(row.ref?.median),
      ms(row.ref?.min),
      ratio === undefined ? "—" : `${ratio.toFixed(2)}×`,
    ];
    lines.push(line(cells, verdict(row, ratio)));
  }
  return lines.join("\n");
}
