/** The engines' HTTP client against local servers: redirects, bot-check redirects, encodings, retry. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http from "node:http";
import type net from "node:net";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { deadAddress, startHttpProxy } from "../../tests/e2e/search-engines.ts";
import { expectA3sErrorAsync } from "../../tests/expect-error.ts";
import { engineHttp } from "./http.ts";
import { ProxyPool } from "./proxy-pool.ts";

let server: http.Server;
let base: string;
const hits: Record<string, number> = {};

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const path = request.url ?? "/";
    hits[path] = (hits[path] ?? 0) + 1;
    if (path === "/moved") return void response.writeHead(302, { location: "/final" }).end();
    if (path === "/to-captcha")
      return void response
        .writeHead(302, { location: "https://wappass.baidu.com/static/captcha/tuxing.html" })
        .end();
    if (path === "/gzip")
      return void response.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync("zipped ✓"));
    if (path === "/br")
      return void response.writeHead(200, { "content-encoding": "br" }).end(brotliCompressSync("brotli ✓"));
    if (path === "/fail") return void response.writeHead(500).end("boom");
    if (path === "/form" && request.method === "POST") {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () =>
        response.end(`${request.headers["content-type"]}|${body}|${request.headers["user-agent"]}`),
      );
      return;
    }
    response.end(`page ${path}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function client(extra: Partial<Parameters<typeof engineHttp>[0]> = {}) {
  return engineHttp({
    engine: "test",
    userAgent: "Mozilla/5.0 test",
    timeoutMs: 5_000,
    signal: new AbortController().signal,
    env: {},
    ...extra,
  });
}

describe("engineHttp", () => {
  test("follows ordinary redirects and reports the final URL", async () => {
    const page = await client().fetch(`${base}/moved`);
    expect(page).toMatchObject({ status: 200, url: `${base}/final`, text: "page /final" });
  });

  test("a redirect to a bot check is an error, not followed", async () => {
    await expectA3sErrorAsync(
      client().fetch(`${base}/to-captcha`, { blockedRedirect: /wappass\.baidu\.com/ }),
      "permission",
      /bot check \(redirect to wappass\.baidu\.com\)/,
    );
  });

  test("decodes gzip and brotli bodies as UTF-8", async () => {
    expect((await client().fetch(`${base}/gzip`)).text).toBe("zipped ✓");
    expect((await client().fetch(`${base}/br`)).text).toBe("brotli ✓");
  });

  test("posts forms with the user agent it was given", async () => {
    const page = await client().fetch(`${base}/form`, { form: { q: "rust async", b: "" } });
    expect(page.text).toBe("application/x-www-form-urlencoded|q=rust+async&b=|Mozilla/5.0 test");
  });

  test("an HTTP error status is returned to the engine once, never retried", async () => {
    const before = hits["/fail"] ?? 0;
    const page = await client().fetch(`${base}/fail`);
    expect(page.status).toBe(500);
    expect(hits["/fail"]).toBe(before + 1);
  });

  test("a network error is retried once through the next proxy, and the failing proxy benched", async () => {
    const dead = await deadAddress();
    const live = await startHttpProxy();
    const pool = new ProxyPool([dead, live.url]);
    const used: string[] = [];
    try {
      const page = await client({ pool, onProxy: (url) => used.push(url) }).fetch(`${base}/through`);
      expect(page.text).toBe("page /through");
      expect(used).toEqual([dead, live.url]);
      expect(pool.status().map((p) => p.healthy)).toEqual([false, true]);
      expect(live.requests).toBe(1);
    } finally {
      await pool.close();
      await live.close();
    }
  });

  test("two network errors in a row are reported", async () => {
    const pool = new ProxyPool([await deadAddress(), await deadAddress()]);
    try {
      await expectA3sErrorAsync(client({ pool }).fetch(`${base}/x`), "network", /cannot reach/);
      expect(pool.status().map((p) => p.failures)).toEqual([1, 1]);
    } finally {
      await pool.close();
    }
  });
});
