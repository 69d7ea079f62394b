import { describe, expect, test } from "bun:test";
import { openDatabase } from "../core/db.ts";
import { cacheKey, SearchCache } from "./cache.ts";

const parts = { query: "rust async runtime", engines: ["duckduckgo", "brave"], page: 1, safe: "moderate" };

describe("cacheKey", () => {
  test("ignores case, spacing and engine order; not page, language or time range", () => {
    const key = cacheKey(parts);
    expect(cacheKey({ ...parts, query: "  Rust   ASYNC runtime " })).toBe(key);
    expect(cacheKey({ ...parts, engines: ["brave", "duckduckgo"] })).toBe(key);
    expect(cacheKey({ ...parts, page: 2 })).not.toBe(key);
    expect(cacheKey({ ...parts, lang: "de" })).not.toBe(key);
    expect(cacheKey({ ...parts, time: "week" })).not.toBe(key);
    expect(cacheKey({ ...parts, engines: ["duckduckgo"] })).not.toBe(key);
  });
});

describe("SearchCache", () => {
  test("returns an entry until its TTL passes, then nothing", () => {
    let now = 1_000_000;
    const cache = new SearchCache(openDatabase(":memory:"), () => now);
    const key = cacheKey(parts);
    cache.put(key, parts, { results: [{ url: "https://tokio.rs/" }] }, 60);
    expect(cache.get<{ results: unknown[] }>(key)?.value.results).toEqual([{ url: "https://tokio.rs/" }]);
    expect(cache.get(key)?.createdAt).toBe(1_000_000);
    now += 59_999;
    expect(cache.get(key)).toBeDefined();
    now += 1;
    expect(cache.get(key)).toBeUndefined();
    expect(cache.stats()).toEqual({ entries: 1, live: 0 });
  });

  test("a TTL of 0 stores nothing; clear empties the table", () => {
    const cache = new SearchCache(openDatabase(":memory:"));
    cache.put("a", parts, {}, 0);
    expect(cache.get("a")).toBeUndefined();
    cache.put("b", parts, {}, 60);
    expect(cache.clear()).toBe(1);
    expect(cache.get("b")).toBeUndefined();
  });
});
