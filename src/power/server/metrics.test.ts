import { describe, expect, test } from "bun:test";
import { PowerMetrics } from "./metrics.ts";

const LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "120"];

/** The rendered lines of one metric family: from its `# HELP` line to the next family's. */
function family(text: string, name: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`# HELP ${name} `));
  expect(start).toBeGreaterThanOrEqual(0);
  const next = lines.findIndex((line, i) => i > start + 1 && line.startsWith("# HELP "));
  return lines.slice(start, next === -1 ? lines.length - 1 : next);
}

describe("PowerMetrics.render", () => {
  test("with nothing recorded: every family's HELP and TYPE, ending in a newline", () => {
    expect(new PowerMetrics().render()).toBe(
      [
        "# HELP a3s_power_requests_total HTTP requests by route, model and status",
        "# TYPE a3s_power_requests_total counter",
        "# HELP a3s_power_request_duration_seconds Time from request to the end of the response",
        "# TYPE a3s_power_request_duration_seconds histogram",
        "# HELP a3s_power_tokens_total Tokens processed, by model and direction (in/out)",
        "# TYPE a3s_power_tokens_total counter",
        "# HELP a3s_power_time_to_first_token_seconds Time from request to the first generated token",
        "# TYPE a3s_power_time_to_first_token_seconds histogram",
        "# HELP a3s_power_model_load_seconds Time llama.cpp took to load a model",
        "# TYPE a3s_power_model_load_seconds histogram",
        "# HELP a3s_power_loaded_models Models loaded in memory",
        "# TYPE a3s_power_loaded_models gauge",
        "# HELP a3s_power_model_unloads_total Models unloaded, by reason (expired, evicted, requested, reloaded)",
        "# TYPE a3s_power_model_unloads_total counter",
        "# HELP a3s_power_queued_requests Requests waiting for a model",
        "# TYPE a3s_power_queued_requests gauge",
        "",
      ].join("\n"),
    );
  });

  test("counters add up per label set, labels sorted by name", () => {
    const metrics = new PowerMetrics();
    metrics.requests.inc({ route: "/api/chat", status: "200", model: "llama3.2:latest" });
    metrics.requests.inc({ model: "llama3.2:latest", status: "200", route: "/api/chat" });
    metrics.requests.inc({ route: "/api/tags", status: "200", model: "" });
    metrics.tokens.inc({ model: "tiny", direction: "in" }, 12);
    metrics.tokens.inc({ model: "tiny", direction: "in" }, 30);
    metrics.tokens.inc({ model: "tiny", direction: "out" }, 7);
    const text = metrics.render();
    expect(family(text, "a3s_power_requests_total")).toEqual([
      "# HELP a3s_power_requests_total HTTP requests by route, model and status",
      "# TYPE a3s_power_requests_total counter",
      'a3s_power_requests_total{model="llama3.2:latest",route="/api/chat",status="200"} 2',
      'a3s_power_requests_total{model="",route="/api/tags",status="200"} 1',
    ]);
    expect(family(text, "a3s_power_tokens_total")).toEqual([
      "# HELP a3s_power_tokens_total Tokens processed, by model and direction (in/out)",
      "# TYPE a3s_power_tokens_total counter",
      'a3s_power_tokens_total{direction="in",model="tiny"} 42',
      'a3s_power_tokens_total{direction="out",model="tiny"} 7',
    ]);
  });

  test("a counter without labels has no braces", () => {
    const metrics = new PowerMetrics();
    metrics.evictions.inc();
    metrics.evictions.inc({}, 2);
    expect(family(metrics.render(), "a3s_power_model_unloads_total").at(-1)).toBe(
      "a3s_power_model_unloads_total 3",
    );
  });

  test("label values escape backslashes, double quotes and newlines", () => {
    const metrics = new PowerMetrics();
    metrics.evictions.inc({ reason: 'say "hi"\nC:\\models\\' });
    expect(family(metrics.render(), "a3s_power_model_unloads_total").at(-1)).toBe(
      'a3s_power_model_unloads_total{reason="say \\"hi\\"\\nC:\\\\models\\\\"} 1',
    );
  });

  test("an escaped backslash before a quote is not taken for an escaped quote", () => {
    const metrics = new PowerMetrics();
    metrics.evictions.inc({ reason: '\\"' });
    expect(family(metrics.render(), "a3s_power_model_unloads_total").at(-1)).toBe(
      'a3s_power_model_unloads_total{reason="\\\\\\""} 1',
    );
  });

  test("gauges take the last value set", () => {
    const metrics = new PowerMetrics();
    metrics.loadedModels.set({}, 2);
    metrics.loadedModels.set({}, 1);
    metrics.queued.set({ model: "tiny" }, 5);
    metrics.queued.set({ model: "tiny" }, 0);
    metrics.queued.set({ model: "big" }, 3);
    const text = metrics.render();
    expect(family(text, "a3s_power_loaded_models")).toEqual([
      "# HELP a3s_power_loaded_models Models loaded in memory",
      "# TYPE a3s_power_loaded_models gauge",
      "a3s_power_loaded_models 1",
    ]);
    expect(family(text, "a3s_power_queued_requests")).toEqual([
      "# HELP a3s_power_queued_requests Requests waiting for a model",
      "# TYPE a3s_power_queued_requests gauge",
      'a3s_power_queued_requests{model="tiny"} 0',
      'a3s_power_queued_requests{model="big"} 3',
    ]);
  });

  test("a gauge can go down with a negative inc", () => {
    const metrics = new PowerMetrics();
    metrics.loadedModels.inc({}, 1);
    metrics.loadedModels.inc({}, 1);
    metrics.loadedModels.inc({}, -1);
    expect(family(metrics.render(), "a3s_power_loaded_models").at(-1)).toBe("a3s_power_loaded_models 1");
  });

  test("fractional values print without trailing zeros", () => {
    const metrics = new PowerMetrics();
    metrics.tokens.inc({}, 0.5);
    metrics.queued.set({}, 0.125);
    const text = metrics.render();
    expect(family(text, "a3s_power_tokens_total").at(-1)).toBe("a3s_power_tokens_total 0.5");
    expect(family(text, "a3s_power_queued_requests").at(-1)).toBe("a3s_power_queued_requests 0.125");
  });

  test("histogram buckets are cumulative, with +Inf, _sum and _count", () => {
    const metrics = new PowerMetrics();
    const labels = { route: "/api/chat", model: "tiny" };
    for (const seconds of [0.003, 0.02, 0.02, 0.7, 3, 200]) metrics.requestDuration.observe(labels, seconds);
    const counts = [1, 1, 3, 3, 3, 3, 3, 4, 4, 5, 5, 5, 5, 5];
    const prefix = 'a3s_power_request_duration_seconds_bucket{model="tiny",route="/api/chat",';
    expect(family(metrics.render(), "a3s_power_request_duration_seconds")).toEqual([
      "# HELP a3s_power_request_duration_seconds Time from request to the end of the response",
      "# TYPE a3s_power_request_duration_seconds histogram",
      ...LE.map((le, i) => `${prefix}le="${le}"} ${counts[i]}`),
      `${prefix}le="+Inf"} 6`,
      'a3s_power_request_duration_seconds_sum{model="tiny",route="/api/chat"} 203.743',
      'a3s_power_request_duration_seconds_count{model="tiny",route="/api/chat"} 6',
    ]);
  });

  test("a value equal to a bound falls in that bucket", () => {
    const metrics = new PowerMetrics();
    metrics.loadDuration.observe({}, 1);
    const lines = family(metrics.render(), "a3s_power_model_load_seconds");
    expect(lines).toContain('a3s_power_model_load_seconds_bucket{le="0.5"} 0');
    expect(lines).toContain('a3s_power_model_load_seconds_bucket{le="1"} 1');
    expect(lines).toContain('a3s_power_model_load_seconds_bucket{le="120"} 1');
  });

  test("a histogram without labels has only le in its buckets and no braces on _sum and _count", () => {
    const metrics = new PowerMetrics();
    metrics.loadDuration.observe({}, 2);
    metrics.loadDuration.observe({}, 0.5);
    const counts = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2];
    expect(family(metrics.render(), "a3s_power_model_load_seconds")).toEqual([
      "# HELP a3s_power_model_load_seconds Time llama.cpp took to load a model",
      "# TYPE a3s_power_model_load_seconds histogram",
      ...LE.map((le, i) => `a3s_power_model_load_seconds_bucket{le="${le}"} ${counts[i]}`),
      'a3s_power_model_load_seconds_bucket{le="+Inf"} 2',
      "a3s_power_model_load_seconds_sum 2.5",
      "a3s_power_model_load_seconds_count 2",
    ]);
  });

  test("each label set of a histogram is its own series, in first-seen order", () => {
    const metrics = new PowerMetrics();
    metrics.timeToFirstToken.observe({ model: "b" }, 0.2);
    metrics.timeToFirstToken.observe({ model: "a" }, 0.04);
    metrics.timeToFirstToken.observe({ model: "b" }, 0.3);
    const lines = family(metrics.render(), "a3s_power_time_to_first_token_seconds");
    expect(lines.filter((line) => line.includes("_count"))).toEqual([
      'a3s_power_time_to_first_token_seconds_count{model="b"} 2',
      'a3s_power_time_to_first_token_seconds_count{model="a"} 1',
    ]);
    expect(lines.filter((line) => line.includes("_sum"))).toEqual([
      'a3s_power_time_to_first_token_seconds_sum{model="b"} 0.5',
      'a3s_power_time_to_first_token_seconds_sum{model="a"} 0.04',
    ]);
    expect(lines).toContain('a3s_power_time_to_first_token_seconds_bucket{model="b",le="0.25"} 1');
    expect(lines).toContain('a3s_power_time_to_first_token_seconds_bucket{model="b",le="0.5"} 2');
    expect(lines).toContain('a3s_power_time_to_first_token_seconds_bucket{model="a",le="0.05"} 1');
    expect(lines).toContain('a3s_power_time_to_first_token_seconds_bucket{model="a",le="0.025"} 0');
  });

  test("histogram label values are escaped too", () => {
    const metrics = new PowerMetrics();
    metrics.requestDuration.observe({ route: 'a"b' }, 0.001);
    const lines = family(metrics.render(), "a3s_power_request_duration_seconds");
    expect(lines).toContain('a3s_power_request_duration_seconds_bucket{route="a\\"b",le="0.005"} 1');
    expect(lines).toContain('a3s_power_request_duration_seconds_count{route="a\\"b"} 1');
  });

  test("instances keep separate values", () => {
    const one = new PowerMetrics();
    const two = new PowerMetrics();
    one.evictions.inc({ reason: "expired" });
    expect(two.render()).not.toContain("a3s_power_model_unloads_total{");
    expect(one.render()).toContain('a3s_power_model_unloads_total{reason="expired"} 1');
  });
});

describe("number formatting", () => {
  test("large and fractional values keep every digit; infinities are +Inf/-Inf", () => {
    const metrics = new PowerMetrics();
    metrics.requestDuration.observe({}, 100000.3);
    metrics.queued.set({}, Number.NEGATIVE_INFINITY);
    const text = metrics.render();
    expect(text).toContain("a3s_power_request_duration_seconds_sum 100000.3\n");
    expect(text).toContain("a3s_power_queued_requests -Inf\n");
  });
});
