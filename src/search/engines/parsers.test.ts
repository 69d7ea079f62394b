/**
 * Each engine's parser against its recorded response (tests/fixtures/search/<engine>/, see the
 * README there), plus the degraded inputs real pages produce: missing fields, bot checks, errors.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expectA3sError } from "../../../tests/expect-error.ts";
import { detectBotCheck } from "../html.ts";
import { parseBaidu } from "./baidu.ts";
import { parseBing, unwrapBingUrl } from "./bing.ts";
import { parseBingApi } from "./bing-api.ts";
import { parseBrave } from "./brave.ts";
import { parseBraveApi } from "./brave-api.ts";
import { ddgRegion, nextPageForm, parseDuckDuckGo } from "./duckduckgo.ts";
import { parseGitHub } from "./github.ts";
import { parseGoogle } from "./google.ts";
import { parseMojeek } from "./mojeek.ts";
import { parseSearxng } from "./searxng.ts";
import { parse360 } from "./so360.ts";
import { parseSogou } from "./sogou.ts";
import { parseStackExchange } from "./stackexchange.ts";
import { parseTavily } from "./tavily.ts";
import { parseWikipedia } from "./wikipedia.ts";

const FIXTURES = join(import.meta.dir, "..", "..", "..", "tests", "fixtures", "search");
const fixture = (path: string) => readFileSync(join(FIXTURES, path), "utf8");

const TOKIO = {
  url: "https://tokio.rs/",
  title: "Tokio - An asynchronous Rust runtime",
};
const TOKIO_SNIPPET_START = "Tokio is an event-driven, non-blocking I/O platform";

describe("duckduckgo", () => {
  const results = parseDuckDuckGo(fixture("duckduckgo/results.html"));

  test("parses web results, skips the ad, unwraps /l/?uddg= redirects", () => {
    expect(results).toHaveLength(10);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[0]?.snippet).toStartWith(TOKIO_SNIPPET_START);
    expect(results.map((r) => r.url)).not.toContain(expect.stringContaining("y.js"));
    expect(results[7]?.url).toBe("https://en.wikipedia.org/wiki/Async/await");
    expect(results[2]).toMatchObject({
      url: "https://docs.rs/tokio/latest/tokio/runtime/index.html",
      title: "tokio::runtime - Rust",
    });
  });

  test("a leading date in the snippet becomes publishedDate", () => {
    const corrode = results.find((r) => r.url === "https://corrode.dev/blog/async/");
    expect(corrode?.publishedDate).toBe("2024-02-13T00:00:00.000Z");
    expect(corrode?.snippet).toStartWith("Recently, I found myself");
  });

  test("the next-page form carries the vqd token", () => {
    expect(nextPageForm(fixture("duckduckgo/results.html"))).toMatchObject({
      q: "rust async runtime",
      s: "10",
      vqd: "4-211395893871359137437011526498421712318",
    });
  });

  test("the anomaly page is a bot check, not an empty result list", () => {
    expect(detectBotCheck(fixture("duckduckgo/anomaly.html"))).toBe("challenge form");
    expectA3sError(() => parseDuckDuckGo(fixture("duckduckgo/anomaly.html")), "permission", /bot check/);
  });

  test("a real no-results page is an empty list; results without a link are skipped", () => {
    expect(parseDuckDuckGo(fixture("duckduckgo/no-results.html"))).toEqual([]);
    const broken = fixture("duckduckgo/results.html").replace(
      /<h2 class="result__title">\s*<a rel="nofollow" class="result__a" href="\/\/duckduckgo\.com\/l\/\?uddg=https%3A%2F%2Ftokio[\s\S]*?<\/h2>/,
      "",
    );
    expect(parseDuckDuckGo(broken)).toHaveLength(9);
    expect(parseDuckDuckGo(broken)[0]?.url).toBe("https://github.com/tokio-rs/tokio");
  });

  test("region codes", () => {
    expect(ddgRegion(undefined)).toBe("wt-wt");
    expect(ddgRegion("en")).toBe("us-en");
    expect(ddgRegion("en-GB")).toBe("uk-en");
    expect(ddgRegion("de")).toBe("de-de");
  });
});

describe("brave", () => {
  const results = parseBrave(fixture("brave/results.html"));

  test("parses web snippets and skips the ad with a relative link", () => {
    expect(results).toHaveLength(10);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[0]?.snippet).toStartWith(TOKIO_SNIPPET_START);
    expect(results[2]).toMatchObject({
      url: "https://tokio.rs/tokio/tutorial",
      title: "Tutorial | Tokio - An asynchronous Rust runtime",
    });
  });

  test("thumbnails and leading dates are picked up", () => {
    expect(results[1]?.thumbnail).toStartWith("https://imgs.search.brave.com/");
    const corrode = results.find((r) => r.url === "https://corrode.dev/blog/async/");
    expect(corrode?.publishedDate).toBe("2024-02-13T00:00:00.000Z");
    expect(corrode?.snippet).toStartWith("Recently, I found myself");
  });

  test("the CAPTCHA page is detected", () => {
    expect(detectBotCheck(fixture("brave/captcha.html"))).toBe("CAPTCHA form");
    // Even without the form, a result-less page about CAPTCHAs is a block, not "no results".
    const formless = fixture("brave/captcha.html").replace(/<form[\s\S]*<\/form>/, "");
    expectA3sError(() => parseBrave(formless), "permission", /brave answered with a bot check/);
  });

  test("a result without its description still parses", () => {
    const bare = fixture("brave/results.html").replace(
      /<div class="generic-snippet[\s\S]*?<\/div><\/div>/g,
      "",
    );
    const parsed = parseBrave(bare);
    expect(parsed).toHaveLength(10);
    expect(parsed[0]).toEqual({ ...TOKIO, snippet: "" });
  });
});

describe("bing", () => {
  const results = parseBing(fixture("bing/results.html"));

  test("parses b_algo results, unwrapping /ck/a click trackers, without the 'Web' label", () => {
    expect(results).toHaveLength(10);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[0]?.snippet).toStartWith(TOKIO_SNIPPET_START);
    expect(results[4]).toMatchObject({
      url: "https://crates.io/crates/tokio",
      title: "tokio - crates.io: Rust Package Registry",
    });
    expect(results.every((r) => !r.url.includes("bing.com"))).toBe(true);
  });

  test("dates in captions", () => {
    expect(results.find((r) => r.url === "https://corrode.dev/blog/async/")?.publishedDate).toBe(
      "2024-02-13T00:00:00.000Z",
    );
  });

  test("unwrapBingUrl leaves ordinary and malformed links alone", () => {
    expect(unwrapBingUrl("https://www.bing.com/ck/a?!&&p=x&u=a1aHR0cHM6Ly90b2tpby5ycy8&ntb=1")).toBe(
      "https://tokio.rs/",
    );
    expect(unwrapBingUrl("https://tokio.rs/")).toBe("https://tokio.rs/");
    expect(unwrapBingUrl("https://www.bing.com/ck/a?u=zz")).toBe("https://www.bing.com/ck/a?u=zz");
  });

  test("the verification page is detected", () => {
    expect(detectBotCheck(fixture("bing/captcha.html"))).toBe("Bing verification");
  });
});

describe("mojeek", () => {
  test("parses results-standard items", () => {
    const results = parseMojeek(fixture("mojeek/results.html"));
    expect(results).toHaveLength(10);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[1]).toEqual({
      url: "https://rust-lang.github.io/async-book/",
      title: "Asynchronous Programming in Rust",
      snippet:
        "This book aims to be a comprehensive, up-to-date guide to using Rust's async language features and libraries, appropriate for beginners and old hands alike.",
    });
  });

  test("an item without its snippet paragraph keeps url and title", () => {
    const results = parseMojeek(fixture("mojeek/results.html").replace(/<p class="s">[\s\S]*?<\/p>/, ""));
    expect(results[0]).toEqual({ ...TOKIO, snippet: "" });
  });
});

describe("baidu", () => {
  const results = parseBaidu(fixture("baidu/results.json"));

  test("parses feed.entry, decoding entities, skipping the trailing empty entry", () => {
    expect(results).toHaveLength(8);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[1]).toMatchObject({
      url: "https://course.rs/advance/async/intro.html",
      title: "异步编程 - Rust语言圣经(Rust Course)",
    });
    expect(results.find((r) => r.url === "https://rust-lang.github.io/async-book/")?.snippet).toContain(
      "Rust's async",
    );
    expect(results.find((r) => r.url === "https://corrode.dev/blog/async/")?.publishedDate).toBe(
      "2024-02-13T00:00:00.000Z",
    );
  });

  test("the security-check page is a bot check; an HTML page is not JSON", () => {
    expect(detectBotCheck(fixture("baidu/captcha.html"))).toBe("Baidu security check");
    expectA3sError(() => parseBaidu("<html></html>"), "integrity");
    expect(parseBaidu('{"feed":{}}')).toEqual([]);
  });
});

describe("sogou", () => {
  test("parses vrwrap results, taking targets from data-url, skipping special blocks", () => {
    const results = parseSogou(fixture("sogou/results.html"));
    expect(results).toHaveLength(8);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[3]).toMatchObject({ url: "https://www.rust-lang.org/zh-CN/", title: "Rust 程序设计语言" });
    expect(results.find((r) => r.url === "https://corrode.dev/blog/async/")?.publishedDate).toBe(
      "2024-02-13T00:00:00.000Z",
    );
  });

  test("without data-url the Sogou redirect is kept, made absolute", () => {
    const results = parseSogou(fixture("sogou/results.html").replace(/ data-url="[^"]*"/g, ""));
    expect(results[0]?.url).toStartWith("https://www.sogou.com/link?url=");
  });
});

describe("360search", () => {
  test("parses res-list items with data-mdurl targets and either snippet form", () => {
    const results = parse360(fixture("360search/results.html"));
    expect(results).toHaveLength(8);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[3]).toMatchObject({ url: "https://docs.rs/tokio/latest/tokio/runtime/index.html" });
    expect(results[3]?.snippet).toStartWith("The Tokio runtime.");
  });
});

describe("wikipedia", () => {
  test("parses list=search hits into article URLs with plain-text snippets", () => {
    const results = parseWikipedia(fixture("wikipedia/search.json"));
    expect(results).toHaveLength(6);
    expect(results[0]).toEqual({
      url: "https://en.wikipedia.org/wiki/Async/await",
      title: "Async/await",
      snippet:
        "In computer programming, the async/await pattern is a syntactic feature of many programming languages that allows an asynchronous, non-blocking function to be structured",
      publishedDate: "2025-05-02T09:14:51.000Z",
    });
    expect(results[1]?.url).toBe("https://en.wikipedia.org/wiki/Rust_(programming_language)");
    expect(parseWikipedia(fixture("wikipedia/search.json"), "de")[2]?.url).toBe(
      "https://de.wikipedia.org/wiki/Tokio_(software)",
    );
  });

  test("API errors are reported", () => {
    expectA3sError(() => parseWikipedia(fixture("wikipedia/error.json")), "network", /srsearch/);
  });
});

describe("searxng", () => {
  test("parses results with dates and skips entries without a URL", () => {
    const results = parseSearxng(fixture("searxng/search.json"));
    expect(results).toHaveLength(7);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results.find((r) => r.url === "https://corrode.dev/blog/async/")?.publishedDate).toStartWith(
      "2024-02-13",
    );
    expect(parseSearxng('{"results":[{"title":"no url"}]}')).toEqual([]);
  });
});

describe("github", () => {
  test("parses repositories with stars and language in the snippet", () => {
    const results = parseGitHub(fixture("github/repositories.json"));
    expect(results).toHaveLength(6);
    expect(results[0]).toEqual({
      url: "https://github.com/tokio-rs/tokio",
      title: "tokio-rs/tokio",
      snippet:
        "A runtime for writing reliable asynchronous applications with Rust. Provides I/O, networking, scheduling, timers, ... — ★ 29,200 · Rust",
      publishedDate: "2025-05-12T08:41:09.000Z",
      thumbnail: "https://avatars.githubusercontent.com/u/10260094?v=4",
    });
    // No description and no language: only what is known.
    expect(results[5]?.snippet).toBe("★ 1,000");
  });

  test("rate limiting is an error with a hint", () => {
    const error = expectA3sError(
      () => parseGitHub(fixture("github/rate-limited.json"), 403),
      "network",
      /rate limit/,
    );
    expect(error.hint).toContain("GITHUB_TOKEN");
  });
});

describe("stackexchange", () => {
  test("parses questions: unescaped titles, body excerpt, score and tags", () => {
    const results = parseStackExchange(fixture("stackexchange/search.json"));
    expect(results).toHaveLength(3);
    expect(results[0]?.title).toBe("What is the difference between tokio and async-std?");
    expect(results[0]?.url).toStartWith("https://stackoverflow.com/questions/63438178/");
    expect(results[0]?.snippet).toStartWith("I am learning async Rust");
    expect(results[0]?.snippet).toEndWith("score 57 · 4 answers (answered) · rust, rust-tokio, async-std");
    expect(results[2]?.title).toStartWith('Why do I get "there is no reactor running');
    expect(results[1]?.snippet).toContain("whether we could…");
  });

  test("throttling errors are reported", () => {
    expectA3sError(
      () => parseStackExchange(fixture("stackexchange/throttled.json"), 400),
      "network",
      /throttle_violation/,
    );
  });
});

describe("API-key engines", () => {
  test("brave-api: web.results with HTML stripped, page_age and thumbnail", () => {
    const results = parseBraveApi(fixture("brave-api/web.json"));
    expect(results).toHaveLength(5);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[0]?.snippet).toStartWith(TOKIO_SNIPPET_START);
    expect(results[1]?.thumbnail).toBe("https://imgs.search.brave.com/gh-tokio-thumb");
    expect(results[3]?.publishedDate).toBe("2024-02-13T00:00:00.000Z");
  });

  test("google: items with pagemap thumbnail and published time; errors reported", () => {
    const results = parseGoogle(fixture("google/customsearch.json"));
    expect(results).toHaveLength(5);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[3]?.thumbnail).toStartWith("https://encrypted-tbn0.gstatic.com/");
    expect(results[4]?.publishedDate).toBe("2024-02-13T00:00:00.000Z");
    expectA3sError(() => parseGoogle(fixture("google/error.json"), 403), "permission", /blocked/);
  });

  test("bing-api: webPages.value", () => {
    const results = parseBingApi(fixture("bing-api/search.json"));
    expect(results).toHaveLength(5);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[4]).toMatchObject({
      url: "https://github.com/smol-rs/smol",
      publishedDate: "2024-11-02T00:00:00.000Z",
    });
    expectA3sError(
      () => parseBingApi('{"error":{"code":"InvalidAuthorization","message":"bad key"}}', 401),
      "permission",
    );
  });

  test("tavily: results with published_date", () => {
    const results = parseTavily(fixture("tavily/search.json"));
    expect(results).toHaveLength(5);
    expect(results[0]).toMatchObject(TOKIO);
    expect(results[1]).toMatchObject({
      url: "https://corrode.dev/blog/async/",
      publishedDate: "2024-02-13T00:00:00.000Z",
    });
  });
});
