/**
 * The server's Prometheus metrics, in the text exposition format (version 0.0.4): counters,
 * gauges and histograms with labels, kept in memory for the life of the process.
 */

type Labels = Record<string, string>;

const labelKey = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((name) => `${name}="${escapeLabel(labels[name] ?? "")}"`)
    .join(",");

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

interface Metric {
  render(): string[];
}

class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly type: "counter" | "gauge" = "counter",
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [key, value] of this.values) {
      lines.push(`${this.name}${key ? `{${key}}` : ""} ${formatNumber(value)}`);
    }
    return lines;
  }
}

class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let series = this.series.get(key);
    if (!series) {
      series = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i]!++;
    });
    series.sum += value;
    series.count++;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, series] of this.series) {
      const prefix = key ? `${key},` : "";
      this.buckets.forEach((bound, i) => {
        lines.push(`${this.name}_bucket{${prefix}le="${formatNumber(bound)}"} ${series.counts[i]}`);
      });
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${series.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ""} ${formatNumber(series.sum)}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ""} ${series.count}`);
    }
    return lines;
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class PowerMetrics {
  readonly requests = new Counter("a3s_power_requests_total", "HTTP requests by route, model and status");
  readonly requestDuration = new Histogram(
    "a3s_power_request_duration_seconds",
    "Time from request to the end of the response",
    LATENCY_BUCKETS,
  );
  readonly tokens = new Counter(
    "a3s_power_tokens_total",
    "Tokens processed, by model and direction (in/out)",
  );
  readonly timeToFirstToken = new Histogram(
    "a3s_power_time_to_first_token_seconds",
    "Time from request to the first generated token",
    LATENCY_BUCKETS,
  );
  readonly loadDuration = new Histogram(
    "a3s_power_model_load_seconds",
    "Time llama.cpp took to load a model",
    LATENCY_BUCKETS,
  );
  readonly loadedModels = new Counter("a3s_power_loaded_models", "Models loaded in memory", "gauge");
  readonly evictions = new Counter(
    "a3s_power_model_unloads_total",
    "Models unloaded, by reason (expired, evicted, requested, reloaded)",
  );
  readonly queued = new Counter("a3s_power_queued_requests", "Requests waiting for a model", "gauge");

  private readonly all: Metric[] = [
    this.requests,
    this.requestDuration,
    this.tokens,
    this.timeToFirstToken,
    this.loadDuration,
    this.loadedModels,
    this.evictions,
    this.queued,
  ];

  render(): string {
    return `${this.all.flatMap((metric) => metric.render()).join("\n")}\n`;
  }
}
