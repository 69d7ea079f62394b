import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "../core/db.ts";
import { parseSince, recordUsage, summarizeUsage, type UsageRecord } from "./usage.ts";

const tempDb = () => join(mkdtempSync(join(tmpdir(), "a3s-usage-")), "a3s.db");

const record = (overrides: Partial<UsageRecord>): UsageRecord => ({
  at: new Date("2025-06-15T12:00:00.000Z"),
  model: "llama3.2:latest",
  endpoint: "/api/chat",
  promptTokens: 0,
  completionTokens: 0,
  durationNs: 0,
  status: 200,
  ...overrides,
});

let db: Database;

beforeEach(() => {
  db = openDatabase(tempDb());
});

afterEach(() => {
  db.close();
});

/** Three requests to llama3.2 (one failed) and one to qwen2.5, on three days. */
function seed() {
  recordUsage(
    db,
    record({
      at: new Date("2025-06-13T08:00:00.000Z"),
      model: "qwen2.5:7b",
      endpoint: "/v1/chat/completions",
      promptTokens: 250_000,
      completionTokens: 125_000,
      durationNs: 3_000_000_000,
    }),
  );
  recordUsage(
    db,
    record({
      at: new Date("2025-06-14T09:00:00.000Z"),
      promptTokens: 600_000,
      completionTokens: 500_000,
      durationNs: 1_500_000_000,
    }),
  );
  recordUsage(
    db,
    record({
      at: new Date("2025-06-15T10:00:00.000Z"),
      endpoint: "/api/generate",
      promptTokens: 400_000,
      completionTokens: 0,
      durationNs: 200_000_000,
      status: 500,
    }),
  );
  recordUsage(
    db,
    record({
      at: new Date("2025-06-15T11:00:00.000Z"),
      promptTokens: 0,
      completionTokens: 0,
      durationNs: 1_000_000,
      status: 404,
    }),
  );
}

describe("recordUsage", () => {
  test("writes one row with the time as ISO text", () => {
    recordUsage(
      db,
      record({
        at: new Date("2025-06-15T12:34:56.789Z"),
        model: "tiny:q4_0",
        endpoint: "/api/embed",
        promptTokens: 12,
        completionTokens: 34,
        durationNs: 5_678_901_234,
        status: 201,
      }),
    );
    expect(
      db
        .query(
          "SELECT at, model, endpoint, prompt_tokens, completion_tokens, duration_ns, status FROM power_usage",
        )
        .all(),
    ).toEqual([
      {
        at: "2025-06-15T12:34:56.789Z",
        model: "tiny:q4_0",
        endpoint: "/api/embed",
        prompt_tokens: 12,
        completion_tokens: 34,
        duration_ns: 5_678_901_234,
        status: 201,
      },
    ]);
  });

  test("every call adds a row", () => {
    seed();
    expect(db.query("SELECT COUNT(*) AS n FROM power_usage").get()).toEqual({ n: 4 });
  });
});

describe("summarizeUsage", () => {
  test("an empty table gives no models and zero totals", () => {
    expect(summarizeUsage(db, undefined, {})).toEqual({
      since: null,
      models: [],
      totals: {
        requests: 0,
        errors: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        total_duration: 0,
        cost: null,
      },
    });
  });

  test("groups by model in name order, counting statuses >= 400 as errors", () => {
    seed();
    const summary = summarizeUsage(db, undefined, {});
    expect(summary.since).toBeNull();
    expect(summary.models).toEqual([
      {
        model: "llama3.2:latest",
        requests: 3,
        errors: 2,
        prompt_tokens: 1_000_000,
        completion_tokens: 500_000,
        total_tokens: 1_500_000,
        total_duration: 1_701_000_000,
        cost: null,
      },
      {
        model: "qwen2.5:7b",
        requests: 1,
        errors: 0,
        prompt_tokens: 250_000,
        completion_tokens: 125_000,
        total_tokens: 375_000,
        total_duration: 3_000_000_000,
        cost: null,
      },
    ]);
    expect(summary.totals).toEqual({
      requests: 4,
      errors: 2,
      prompt_tokens: 1_250_000,
      completion_tokens: 625_000,
      total_tokens: 1_875_000,
      total_duration: 4_701_000_000,
      cost: null,
    });
  });

  test("status 399 is not an error, 400 is", () => {
    recordUsage(db, record({ status: 399 }));
    recordUsage(db, record({ status: 400 }));
    recordUsage(db, record({ status: 200 }));
    const [usage] = summarizeUsage(db, undefined, {}).models;
    expect(usage?.requests).toBe(3);
    expect(usage?.errors).toBe(1);
  });

  test("prices per million tokens, by exact name and by the name without :latest", () => {
    seed();
    const summary = summarizeUsage(db, undefined, {
      llama3: { input: 100, output: 100 },
      "llama3.2": { input: 0.5, output: 1.5 },
      "qwen2.5:7b": { input: 2, output: 4 },
    });
    // llama3.2: 1,000,000 × 0.5 + 500,000 × 1.5 = 1.25; qwen2.5: 250,000 × 2 + 125,000 × 4 = 1.
    expect(summary.models.map((usage) => [usage.model, usage.cost])).toEqual([
      ["llama3.2:latest", 1.25],
      ["qwen2.5:7b", 1],
    ]);
    expect(summary.totals.cost).toBe(2.25);
  });

  test("the exact name's price wins over the name without :latest", () => {
    recordUsage(db, record({ promptTokens: 1_000_000, completionTokens: 1_000_000 }));
    const summary = summarizeUsage(db, undefined, {
      "llama3.2": { input: 1, output: 1 },
      "llama3.2:latest": { input: 3, output: 5 },
    });
    expect(summary.models[0]?.cost).toBe(8);
  });

  test("only :latest is dropped when looking up a price", () => {
    recordUsage(db, record({ model: "qwen2.5:7b", promptTokens: 1_000_000 }));
    expect(summarizeUsage(db, undefined, { "qwen2.5": { input: 1, output: 1 } }).models[0]?.cost).toBeNull();
  });

  test("a model without a price costs null; the total sums the priced ones", () => {
    seed();
    const summary = summarizeUsage(db, undefined, { "qwen2.5:7b": { input: 2, output: 4 } });
    expect(summary.models.map((usage) => usage.cost)).toEqual([null, 1]);
    expect(summary.totals.cost).toBe(1);
  });

  test("a price of zero gives a cost of zero, not null", () => {
    seed();
    const summary = summarizeUsage(db, undefined, { "llama3.2": { input: 0, output: 0 } });
    expect(summary.models[0]?.cost).toBe(0);
    expect(summary.totals.cost).toBe(0);
  });

  test("since keeps requests at or after it and is echoed as ISO text", () => {
    seed();
    const since = new Date("2025-06-14T09:00:00.000Z");
    const summary = summarizeUsage(db, since, {});
    expect(summary.since).toBe("2025-06-14T09:00:00.000Z");
    expect(summary.models.map((usage) => [usage.model, usage.requests, usage.errors])).toEqual([
      ["llama3.2:latest", 3, 2],
    ]);
    expect(summary.totals.requests).toBe(3);
    expect(summary.totals.prompt_tokens).toBe(1_000_000);
  });

  test("since drops earlier requests of a model", () => {
    seed();
    const summary = summarizeUsage(db, new Date("2025-06-15T00:00:00.000Z"), {});
    expect(summary.models).toEqual([
      {
        model: "llama3.2:latest",
        requests: 2,
        errors: 2,
        prompt_tokens: 400_000,
        completion_tokens: 0,
        total_tokens: 400_000,
        total_duration: 201_000_000,
        cost: null,
      },
    ]);
  });

  test("since after every request gives an empty summary", () => {
    seed();
    const summary = summarizeUsage(db, new Date("2025-06-16T00:00:00.000Z"), {
      "llama3.2": { input: 1, output: 1 },
    });
    expect(summary.models).toEqual([]);
    expect(summary.totals.requests).toBe(0);
    expect(summary.totals.cost).toBeNull();
  });
});

describe("parseSince", () => {
  const now = new Date("2025-06-15T12:00:00.000Z");

  test("a duration back from now", () => {
    expect(parseSince("24h", now)?.toISOString()).toBe("2025-06-14T12:00:00.000Z");
    expect(parseSince("7d", now)?.toISOString()).toBe("2025-06-08T12:00:00.000Z");
    expect(parseSince("30m", now)?.toISOString()).toBe("2025-06-15T11:30:00.000Z");
    expect(parseSince("2w", now)?.toISOString()).toBe("2025-06-01T12:00:00.000Z");
    expect(parseSince("0h", now)?.toISOString()).toBe("2025-06-15T12:00:00.000Z");
  });

  test("whitespace around and inside a duration is allowed", () => {
    expect(parseSince(" 24h ", now)?.toISOString()).toBe("2025-06-14T12:00:00.000Z");
    expect(parseSince("3 d", now)?.toISOString()).toBe("2025-06-12T12:00:00.000Z");
  });

  test("an ISO date or date-time", () => {
    expect(parseSince("2025-01-02T03:04:05Z", now)?.toISOString()).toBe("2025-01-02T03:04:05.000Z");
    expect(parseSince("2025-01-02T03:04:05+02:00", now)?.toISOString()).toBe("2025-01-02T01:04:05.000Z");
    expect(parseSince("2025-01-02", now)?.toISOString()).toBe("2025-01-02T00:00:00.000Z");
  });

  test("now defaults to the current time", () => {
    const before = Date.now();
    const since = parseSince("1h");
    const after = Date.now();
    expect(since).toBeInstanceOf(Date);
    expect(since!.getTime()).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(since!.getTime()).toBeLessThanOrEqual(after - 3_600_000);
  });

  test.each(["", "   ", "yesterday", "1y", "h", "24hours", "-1h", "1.5h", "2025-13-45", "not a date"])(
    "%p is undefined",
    (text) => {
      expect(parseSince(text, now)).toBeUndefined();
    },
  );
});

describe("parseSince: no loose dates", () => {
  test("a bare number is neither a duration nor a date", () => {
    expect(parseSince("5")).toBeUndefined();
    expect(parseSince("12")).toBeUndefined();
  });
});
