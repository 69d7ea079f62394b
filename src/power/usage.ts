/**
 * Per-request usage of `power serve`, kept in SQLite (power_usage), and the per-model summary
 * `power usage` prints, with a cost when power.prices names the model (per million tokens).
 */
import type { Database } from "bun:sqlite";

export interface UsageRecord {
  at: Date;
  model: string;
  endpoint: string;
  promptTokens: number;
  completionTokens: number;
  durationNs: number;
  status: number;
}

export function recordUsage(db: Database, record: UsageRecord): void {
  db.query(
    `INSERT INTO power_usage (at, model, endpoint, prompt_tokens, completion_tokens, duration_ns, status)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    record.at.toISOString(),
    record.model,
    record.endpoint,
    record.promptTokens,
    record.completionTokens,
    record.durationNs,
    record.status,
  );
}

export interface Prices {
  [model: string]: { input: number; output: number };
}

export interface ModelUsage {
  model: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Sum of request durations, in nanoseconds. */
  total_duration: number;
  /** In the currency of power.prices; null when the model has no price. */
  cost: number | null;
}

export interface UsageSummary {
  since: string | null;
  models: ModelUsage[];
  totals: Omit<ModelUsage, "model">;
}

interface Row {
  model: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  duration_ns: number;
}

export function summarizeUsage(db: Database, since: Date | undefined, prices: Prices): UsageSummary {
  const rows = db
    .query(
      `SELECT model, COUNT(*) AS requests, SUM(status >= 400) AS errors,
              SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
              SUM(duration_ns) AS duration_ns
       FROM power_usage WHERE at >= ? GROUP BY model ORDER BY model`,
    )
    .all(since ? since.toISOString() : "") as Row[];
  const models = rows.map((row): ModelUsage => {
    const price = priceOf(prices, row.model);
    return {
      model: row.model,
      requests: row.requests,
      errors: row.errors,
      prompt_tokens: row.prompt_tokens,
      completion_tokens: row.completion_tokens,
      total_tokens: row.prompt_tokens + row.completion_tokens,
      total_duration: row.duration_ns,
      cost: price ? (row.prompt_tokens * price.input + row.completion_tokens * price.output) / 1e6 : null,
    };
  });
  const sum = (pick: (usage: ModelUsage) => number) =>
    models.reduce((total, usage) => total + pick(usage), 0);
  const priced = models.filter((usage) => usage.cost !== null);
  return {
    since: since ? since.toISOString() : null,
    models,
    totals: {
      requests: sum((u) => u.requests),
      errors: sum((u) => u.errors),
      prompt_tokens: sum((u) => u.prompt_tokens),
      completion_tokens: sum((u) => u.completion_tokens),
      total_tokens: sum((u) => u.total_tokens),
      total_duration: sum((u) => u.total_duration),
      cost: priced.length > 0 ? priced.reduce((total, usage) => total + (usage.cost ?? 0), 0) : null,
    },
  };
}

/** A price by the exact name, or by the name without its ":latest" tag. */
function priceOf(prices: Prices, model: string): Prices[string] | undefined {
  return prices[model] ?? prices[model.replace(/:latest$/, "")];
}

/** `--since`: an ISO date/time, or a duration back from now ("24h", "7d", "30m"). */
export function parseSince(text: string, now: Date = new Date()): Date | undefined {
  const relative = /^(\d+)\s*(m|h|d|w)$/.exec(text.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
      relative[2] as "m" | "h" | "d" | "w"
    ];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  // Only ISO dates: Date() alone would read "5" as May 2001.
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
