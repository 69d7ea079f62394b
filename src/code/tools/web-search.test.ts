import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FakeEngines, startFakeEngines } from "../../../tests/e2e/search-engines.ts";
import { ConfigSchema } from "../../core/config.ts";
import { pathsFor } from "../../core/paths.ts";
import { tempDir, toolContext } from "./testing.ts";
import { webSearchTool } from "./web-search.ts";

let fake: FakeEngines;
beforeAll(async () => {
  fake = await startFakeEngines({
    mojeek: { fixture: "mojeek/results.html" },
    wikipedia: { fixture: "wikipedia/search.json" },
    brave: { body: "unavailable", status: 500 },
  });
});
afterAll(() => fake.close());

function context(engines: string[], cacheTtlSeconds = 0) {
  const home = tempDir();
  const config = ConfigSchema.parse({ search: { baseUrls: fake.baseUrls, cacheTtlSeconds, engines } });
  return toolContext(tempDir(), { home: { paths: pathsFor(home), config } });
}

const run = (input: Record<string, unknown>, ctx: ReturnType<typeof context>) =>
  webSearchTool.run(webSearchTool.input.parse(input), ctx);

describe("web_search", () => {
  test("ranked results with URL, snippet and the engines that found each", async () => {
    const result = await run({ query: "rust async runtime", limit: 2 }, context(["mojeek", "wikipedia"]));
    expect(result.content).toStartWith(
      [
        'Results for "rust async runtime":',
        "",
        "1. Async/await",
        "   https://en.wikipedia.org/wiki/Async/await",
        "   In computer programming, the async/await pattern is a syntac",
      ].join("\n"),
    );
    expect(result.content).toContain(
      "   [found by wikipedia, mojeek; published 2025-05-02]\n\n2. Tokio - An asynchronous Rust runtime\n   https://tokio.rs/",
    );
    expect(result.summary).toBe("2 results from 2 engines");
  });

  test("a failing engine is reported beside the others' results", async () => {
    const result = await run({ query: "rust async runtime", limit: 1 }, context(["mojeek", "brave"]));
    expect(result.isError).toBeUndefined();
    expect(result.content).toContain("1. Tokio - An asynchronous Rust runtime");
    expect(result.content).toMatch(/Engines that failed: brave \(.+\)/);
  });

  test("domain filters keep or drop results", async () => {
    const ctx = context(["mojeek", "wikipedia"]);
    const only = await run({ query: "rust async runtime", allowed_domains: ["wikipedia.org"] }, ctx);
    const urls = [...only.content.matchAll(/^ {3}(https?:\/\/\S+)$/gm)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.every((url) => new URL(url!).hostname.endsWith("wikipedia.org"))).toBe(true);
    const without = await run({ query: "rust async runtime", blocked_domains: ["tokio.rs"] }, ctx);
    expect(without.content).not.toContain("https://tokio.rs/");
  });

  test("the cache in A3S_HOME answers a repeated query", async () => {
    const ctx = context(["mojeek"], 600);
    await run({ query: "rust async runtime" }, ctx);
    const hits = fake.hits.mojeek;
    const again = await run({ query: "rust async runtime" }, ctx);
    expect(again.content).toStartWith('Results for "rust async runtime" (cached):');
    expect(fake.hits.mojeek).toBe(hits);
  });

  test("every engine failing is an error naming them", async () => {
    const result = await run({ query: "anything" }, context(["brave"]));
    expect(result.isError).toBe(true);
    expect(result.content).toContain("every search engine failed (brave answered HTTP 500)");
    expect(result.content).toContain("fetch a known URL with web_fetch");
  });
});
