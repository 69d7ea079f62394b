/** The orchestrator with real engines against local fake servers serving the recorded fixtures. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FakeEngines, startFakeEngines } from "../../tests/e2e/search-engines.ts";
import { expectA3sErrorAsync } from "../../tests/expect-error.ts";
import { ConfigSchema } from "../core/config.ts";
import { openDatabase } from "../core/db.ts";
import { findEngine } from "./engines/index.ts";
import { engineSetup, listEngines, search } from "./search.ts";

let fake: FakeEngines;

beforeAll(async () => {
  fake = await startFakeEngines({
    mojeek: { fixture: "mojeek/results.html" },
    wikipedia: { fixture: "wikipedia/search.json" },
    brave: { fixture: "brave/results.html", delayMs: 10_000 },
    tavily: { fixture: "tavily/search.json" },
  });
});

afterAll(() => fake.close());

function config(search: Record<string, unknown> = {}) {
  return ConfigSchema.parse({ search: { baseUrls: fake.baseUrls, cacheTtlSeconds: 0, ...search } }).search;
}

describe("search", () => {
  test("the total deadline stops an engine whose own timeout is longer", async () => {
    const response = await search(
      { config: config(), env: {} },
      { query: "rust async runtime", engines: ["mojeek", "brave"], timeoutMs: 60_000, deadlineMs: 300 },
    );
    expect(response.engines[1]?.error?.message).toMatch(/^brave: timed out after \d+ ms$/);
    expect(response.engines[0]?.results).toBe(10);
    expect(response.total).toBe(10);
  });

  test("an engine without its API key is reported without a request; with the key it runs", async () => {
    const without = await search(
      { config: config(), env: {} },
      { query: "rust async runtime", engines: ["tavily", "wiki"] },
    );
    expect(without.engines[0]?.error).toEqual({
      code: "usage",
      message: "tavily: no API key (set TAVILY_API_KEY)",
    });
    expect(fake.hits.tavily).toBe(0);
    const withKey = await search(
      { config: config({ apiKeyEnv: { tavily: "MY_TAVILY" } }), env: { MY_TAVILY: "tvly-1" } },
      { query: "rust async runtime", engines: ["tavily", "wiki"] },
    );
    expect(withKey.engines[0]?.error).toBeNull();
    expect(fake.hits.tavily).toBe(1);
  });

  test("limit applies to the answer, not to what is cached", async () => {
    const db = openDatabase(":memory:");
    const deps = { config: config({ cacheTtlSeconds: 60 }), env: {}, db };
    const first = await search(deps, { query: "rust async runtime", engines: ["mjk"], limit: 2 });
    expect(first.results.map((r) => r.rank)).toEqual([1, 2]);
    expect(first.total).toBe(10);
    const second = await search(deps, { query: "rust async runtime", engines: ["mjk"], limit: 4 });
    expect(second.cached).toBe(true);
    expect(second.results).toHaveLength(4);
  });

  test("an empty query and an unknown engine are usage errors", async () => {
    await expectA3sErrorAsync(search({ config: config(), env: {} }, { query: "  " }), "usage", /empty/);
    await expectA3sErrorAsync(
      search({ config: config(), env: {} }, { query: "x", engines: ["nope"] }),
      "usage",
      /unknown search engine 'nope'/,
    );
  });
});

describe("engine setup", () => {
  test("base URL, weight and key follow the config", () => {
    const engine = findEngine("ddg");
    if (!engine) throw new Error("missing engine");
    const setup = engineSetup(engine, config({ weights: { duckduckgo: 2 } }), {});
    expect(setup).toMatchObject({ baseUrl: "https://html.duckduckgo.com", weight: 2 });
    const searx = findEngine("searxng");
    if (!searx) throw new Error("missing engine");
    expect(engineSetup(searx, config({ searxngUrl: "https://searx.example" }), {})).toMatchObject({
      baseUrl: "https://searx.example",
    });
    expect(listEngines(config(), {}).find((e) => e.name === "google")?.reason).toBe(
      "no API key (set GOOGLE_API_KEY)",
    );
  });
});
