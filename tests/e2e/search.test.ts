/**
 * `a3s search` end to end: the compiled binary against fake engines on 127.0.0.1 serving the
 * recorded responses, with engine base URLs pointed at them through A3S_SEARCH_BASE_URLS.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SearchResponse } from "../../src/search/search.ts";
import { a3s, ensureBuilt, expectExit, tempHome } from "./a3s.ts";
import {
  deadAddress,
  type FakeEngines,
  type ProxyServer,
  startFakeEngines,
  startHttpProxy,
} from "./search-engines.ts";

let engines: FakeEngines;
let proxy: ProxyServer;
let dead: string;

beforeAll(async () => {
  await ensureBuilt();
  engines = await startFakeEngines({
    duckduckgo: { fixture: "duckduckgo/results.html", delayMs: 30 },
    brave: { fixture: "brave/results.html", delayMs: 60, gzip: true },
    mojeek: { fixture: "mojeek/results.html", delayMs: 20 },
    wikipedia: { fixture: "wikipedia/search.json" },
    // Misbehaving engines, selected by the tests that need them.
    bing: { fixture: "bing/results.html", status: 500 },
    baidu: { fixture: "baidu/results.json", delayMs: 5_000 },
    sogou: { fixture: "sogou/results.html" },
    "360search": { fixture: "360search/results.html" },
    github: { fixture: "github/repositories.json" },
    stackexchange: { fixture: "stackexchange/search.json", gzip: true },
  });
  proxy = await startHttpProxy();
  dead = await deadAddress();
}, 120_000);

afterAll(async () => {
  await engines?.close();
  await proxy?.close();
});

function env(extra: Record<string, string> = {}, baseUrls: Record<string, string> = engines.baseUrls) {
  return { A3S_SEARCH_BASE_URLS: JSON.stringify(baseUrls), ...extra };
}

async function searchJson(args: string[], options: { home?: string; env?: Record<string, string> } = {}) {
  const result = expectExit(
    await a3s(["search", ...args, "--json"], { home: options.home ?? tempHome(), env: options.env ?? env() }),
    0,
  );
  return result.json<SearchResponse>();
}

describe("a3s search", () => {
  test("queries engines in parallel and ranks pages several engines agree on first", async () => {
    const response = await searchJson(["rust", "async", "runtime", "-e", "ddg,br,mjk,wiki"]);
    expect(response.query).toBe("rust async runtime");
    expect(response.cached).toBe(false);
    expect(response.engines.map((e) => [e.name, e.error, e.results])).toEqual([
      ["duckduckgo", null, 10],
      ["brave", null, 10],
      ["mojeek", null, 10],
      ["wikipedia", null, 6],
    ]);
    const top = response.results.slice(0, 3).map((r) => r.url);
    expect(top).toContain("https://tokio.rs/");
    const tokio = response.results.find((r) => r.url === "https://tokio.rs/");
    expect(tokio?.engines).toEqual(["duckduckgo", "brave", "mojeek"]);
    expect(tokio?.positions).toEqual({ duckduckgo: 1, brave: 1, mojeek: 1 });
    expect(tokio?.title).toBe("Tokio - An asynchronous Rust runtime");
    expect(response.results).toHaveLength(10);
    expect(response.results.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Each URL appears once even though engines spelled some differently.
    expect(new Set(response.results.map((r) => r.url)).size).toBe(response.results.length);
    // Parallel: the whole query takes about the slowest engine (60 ms), not the sum.
    expect(response.tookMs).toBeLessThan(2_000);
  });

  test("an engine past its timeout, one answering 500 and one answering a CAPTCHA are reported; the rest is returned", async () => {
    const captcha = await startFakeEngines({ duckduckgo: { fixture: "duckduckgo/anomaly.html" } });
    try {
      const baseUrls = { ...engines.baseUrls, duckduckgo: captcha.baseUrls.duckduckgo as string };
      const home = tempHome();
      const result = await a3s(
        ["search", "rust async runtime", "-e", "ddg,bing,baidu,mjk,wiki", "-t", "800", "--json"],
        {
          home,
          env: env({}, baseUrls),
        },
      );
      const response = expectExit(result, 0).json<SearchResponse>();
      const byName = Object.fromEntries(response.engines.map((e) => [e.name, e]));
      expect(byName.duckduckgo?.error?.code).toBe("permission");
      expect(byName.duckduckgo?.error?.message).toContain("bot check");
      expect(byName.bing?.error?.message).toBe("bing answered HTTP 500");
      expect(byName.baidu?.error?.message).toBe("baidu: timed out after 800 ms");
      expect(byName.mojeek?.error).toBeNull();
      expect(byName.wikipedia?.error).toBeNull();
      // Nothing from the failed engines made it into the results.
      const contributing = new Set(response.results.flatMap((r) => r.engines));
      expect([...contributing].sort()).toEqual(["mojeek", "wikipedia"]);
      expect(response.results[0]?.url).toBe("https://en.wikipedia.org/wiki/Async/await");
      expect(response.tookMs).toBeLessThan(3_000);

      // Human mode: results on stdout, one warning per failed engine on stderr.
      const human = expectExit(
        await a3s(["search", "rust async runtime", "-e", "ddg,bing,mjk", "--no-cache"], {
          home,
          env: env({}, baseUrls),
        }),
        0,
      );
      expect(human.stdout).toContain(" 1. Tokio - An asynchronous Rust runtime\n    https://tokio.rs/\n");
      expect(human.stdout).not.toContain("warning");
      expect(human.stderr).toContain(
        "warning: duckduckgo answered with a bot check (challenge form) instead of results",
      );
      expect(human.stderr).toContain("warning: bing answered HTTP 500");
      expect(human.stderr).toContain("10 of 10 results from 1/3 engines");
    } finally {
      await captcha.close();
    }
  });

  test("every engine failing is an error with the network exit code", async () => {
    const result = await a3s(["search", "rust async runtime", "-e", "bing,baidu", "-t", "300", "--json"], {
      env: env(),
    });
    expectExit(result, 5);
    const body = result.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe("network");
    expect(body.error.message).toContain("(bing answered HTTP 500; baidu: timed out after 300 ms)");
    expect(body.error.message).toContain("baidu: timed out after 300 ms");
  });

  test("goes through the proxy pool; a dead proxy is skipped and results are unchanged", async () => {
    const before = proxy.requests;
    const response = await searchJson([
      "rust async runtime",
      "-e",
      "ddg,br,mjk,wiki",
      "--proxy",
      dead,
      "--proxy",
      proxy.url,
    ]);
    expect(response.engines.every((e) => e.error === null)).toBe(true);
    // Every engine's successful request went through the live proxy.
    expect(response.engines.map((e) => e.proxy)).toEqual([proxy.url, proxy.url, proxy.url, proxy.url]);
    expect(proxy.requests - before).toBe(4);
    expect(response.results.find((r) => r.url === "https://tokio.rs/")?.engines).toEqual([
      "duckduckgo",
      "brave",
      "mojeek",
    ]);
  });

  test("a repeated query is answered from the cache without reaching the engines", async () => {
    const home = tempHome();
    const first = await searchJson(["Rust async runtime", "-e", "mjk,wiki", "-l", "3"], { home });
    const hits = { mojeek: engines.hits.mojeek, wikipedia: engines.hits.wikipedia };
    const second = await searchJson(["rust  async RUNTIME", "-e", "wiki,mjk", "-l", "5"], { home });
    expect(second.cached).toBe(true);
    expect({ mojeek: engines.hits.mojeek, wikipedia: engines.hits.wikipedia }).toEqual(hits);
    expect(first.results).toHaveLength(3);
    expect(second.results).toHaveLength(5);
    expect(second.results.slice(0, 3)).toEqual(first.results);
    const fresh = await searchJson(["rust async runtime", "-e", "mjk,wiki", "--no-cache"], { home });
    expect(fresh.cached).toBe(false);
    expect(engines.hits.mojeek).toBe((hits.mojeek ?? 0) + 1);
  });

  test("code engines: GitHub and Stack Exchange APIs", async () => {
    const response = await searchJson(["tokio", "-e", "gh,se"]);
    expect(response.engines.map((e) => e.error)).toEqual([null, null]);
    expect(response.results[0]?.url).toBe("https://github.com/tokio-rs/tokio");
    expect(response.results.map((r) => r.url)).toContain(
      "https://stackoverflow.com/questions/63438178/what-is-the-difference-between-tokio-and-async-std",
    );
  });

  test("--format compact prints title<TAB>url, and --open hands result N to $BROWSER", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a3s-open-"));
    const opened = join(dir, "opened");
    const browser = join(dir, "browser.sh");
    writeFileSync(browser, `#!/bin/sh\necho "$1" > ${opened}\n`);
    chmodSync(browser, 0o755);
    const result = expectExit(
      await a3s(
        ["search", "rust async runtime", "-e", "sg,360", "--format", "compact", "-l", "3", "--open", "2"],
        {
          env: env({ BROWSER: browser }),
        },
      ),
      0,
    );
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("Tokio - An asynchronous Rust runtime\thttps://tokio.rs/");
    expect(lines[1]).toBe("异步编程 - Rust语言圣经(Rust Course)\thttps://course.rs/advance/async/intro.html");
    for (let i = 0; i < 50 && !existsSync(opened); i++) await Bun.sleep(20);
    expect(readFileSync(opened, "utf8").trim()).toBe("https://course.rs/advance/async/intro.html");
  });

  test("usage errors: unknown engine, bad option values", async () => {
    const unknown = expectExit(await a3s(["search", "x", "-e", "altavista"], { env: env() }), 2);
    expect(unknown.stderr).toContain("error: unknown search engine 'altavista'");
    expect(unknown.stderr).toContain("duckduckgo (ddg)");
    const time = expectExit(await a3s(["search", "x", "--time", "decade"], { env: env() }), 2);
    expect(time.stderr).toContain("--time must be day, week, month or year");
    const limit = expectExit(await a3s(["search", "x", "-l", "0"], { env: env() }), 2);
    expect(limit.stderr).toContain("--limit must be at least 1");
  });

  test("search engines lists every engine with its state", async () => {
    const listing = expectExit(
      await a3s(["search", "engines", "--json"], { env: { TAVILY_API_KEY: "tvly-test" } }),
      0,
    );
    const { engines: rows } = listing.json<{
      engines: Array<{ name: string; available: boolean; default: boolean; reason: string | null }>;
    }>();
    expect(rows.map((r) => r.name)).toEqual([
      "duckduckgo",
      "wikipedia",
      "brave",
      "bing",
      "mojeek",
      "baidu",
      "sogou",
      "360search",
      "searxng",
      "github",
      "stackexchange",
      "brave-api",
      "google",
      "bing-api",
      "tavily",
    ]);
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(byName.duckduckgo).toMatchObject({ available: true, default: true });
    expect(byName["brave-api"]).toMatchObject({ available: false, reason: "no API key (set BRAVE_API_KEY)" });
    expect(byName.tavily).toMatchObject({ available: true, reason: null });
    const table = expectExit(await a3s(["search", "engines"]), 0);
    expect(table.stdout).toMatch(/^NAME\s+SHORTCUT\s+CATEGORIES\s+WEIGHT\s+DEFAULT\s+STATE\n/);
    expect(table.stdout).toMatch(/searxng\s+sx\s+general,web\s+1\s+no instance \(set search\.searxngUrl\)/);
  });
});
