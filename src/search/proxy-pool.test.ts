import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import { ProxyPool, parseProxyUrl, redact } from "./proxy-pool.ts";

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("ProxyPool", () => {
  test("hands out proxies round-robin", () => {
    const pool = new ProxyPool(["http://a:1", "http://b:2", "socks5://c:3"]);
    expect([pool.next(), pool.next(), pool.next(), pool.next()].map((p) => p?.url)).toEqual([
      "http://a:1",
      "http://b:2",
      "socks5://c:3",
      "http://a:1",
    ]);
    expect(pool.next()?.kind).toBe("http");
  });

  test("a failing proxy is benched, skipped, and retried after its bench", () => {
    const time = clock();
    const pool = new ProxyPool(["http://dead:1", "http://live:2"], { benchMs: 1_000, now: time.now });
    const dead = pool.next();
    expect(dead?.url).toBe("http://dead:1");
    if (dead) pool.reportFailure(dead);
    expect([pool.next(), pool.next(), pool.next()].map((p) => p?.url)).toEqual([
      "http://live:2",
      "http://live:2",
      "http://live:2",
    ]);
    expect(pool.status()).toEqual([
      { url: "http://dead:1", healthy: false, failures: 1, uses: 1 },
      { url: "http://live:2", healthy: true, failures: 0, uses: 3 },
    ]);
    time.advance(1_000);
    expect(pool.next()?.url).toBe("http://dead:1");
  });

  test("consecutive failures bench longer; a success clears the record", () => {
    const time = clock();
    const pool = new ProxyPool(["http://flaky:1", "http://other:2"], { benchMs: 1_000, now: time.now });
    const flaky = pool.next();
    if (!flaky) throw new Error("no proxy");
    pool.reportFailure(flaky);
    time.advance(1_000);
    pool.reportFailure(flaky);
    time.advance(1_500);
    expect(pool.status()[0]?.healthy).toBe(false);
    time.advance(500);
    expect(pool.status()[0]?.healthy).toBe(true);
    pool.reportSuccess(flaky);
    expect(pool.status()[0]?.failures).toBe(0);
  });

  test("when every proxy is benched, the one due back soonest is used rather than going direct", () => {
    const time = clock();
    const pool = new ProxyPool(["http://a:1", "http://b:2"], { benchMs: 1_000, now: time.now });
    const a = pool.next();
    const b = pool.next();
    if (!a || !b) throw new Error("no proxy");
    pool.reportFailure(b);
    time.advance(10);
    pool.reportFailure(a);
    expect(pool.next()?.url).toBe("http://b:2");
  });

  test("an empty pool hands out nothing", () => {
    expect(new ProxyPool([]).next()).toBeUndefined();
  });
});

describe("parseProxyUrl", () => {
  test("accepts http, https and socks5; a bare host:port is http", () => {
    expect(parseProxyUrl("socks5://u:p@127.0.0.1:1080").kind).toBe("socks5");
    expect(parseProxyUrl("https://proxy:8443").kind).toBe("http");
    expect(parseProxyUrl("127.0.0.1:3128").url.href).toBe("http://127.0.0.1:3128/");
  });

  test("rejects other schemes with a usage error", () => {
    expectUsage(() => parseProxyUrl("ftp://proxy:21"), /unsupported proxy scheme 'ftp'/);
  });

  test("redact hides passwords", () => {
    expect(redact("socks5://user:secret@proxy:1080")).toBe("socks5://user:***@proxy:1080");
  });
});
