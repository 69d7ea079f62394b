import { afterAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { A3sError } from "./errors.ts";
import { backoff, createDispatcher, httpRequest, readJson, retryAfter } from "./http.ts";

let hits = new Map<string, number>();
const server: Bun.Server<undefined> = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req): Response {
    const url = new URL(req.url);
    const count = (hits.get(url.pathname) ?? 0) + 1;
    hits.set(url.pathname, count);
    switch (url.pathname) {
      case "/flaky":
        return count < 3 ? new Response("busy", { status: 503 }) : Response.json({ ok: true, count });
      case "/retry-after":
        return count < 2
          ? new Response("slow down", { status: 429, headers: { "retry-after": "0" } })
          : new Response("done");
      case "/always-503":
        return new Response("down", { status: 503 });
      case "/redirect":
        return Response.redirect(`http://127.0.0.1:${server.port}/target`, 307);
      case "/target":
        return new Response(`landed with auth=${req.headers.get("authorization") ?? "none"}`);
      case "/not-json":
        return new Response("<html>");
      default:
        return new Response("missing", { status: 404 });
    }
  },
});
const base = `http://127.0.0.1:${server.port}`;
afterAll(() => server.stop(true));

describe("httpRequest", () => {
  test("retries idempotent requests on 5xx until success", async () => {
    hits = new Map();
    const response = await httpRequest(`${base}/flaky`, { retries: 3 });
    expect(response.status).toBe(200);
    expect(await readJson(response)).toEqual({ ok: true, count: 3 });
  });

  test("honours Retry-After on 429", async () => {
    hits = new Map();
    const response = await httpRequest(`${base}/retry-after`);
    expect(await response.body.text()).toBe("done");
    expect(hits.get("/retry-after")).toBe(2);
  });

  test("does not retry POST", async () => {
    hits = new Map();
    const response = await httpRequest(`${base}/always-503`, { method: "POST", body: "x", retries: 3 });
    expect(response.status).toBe(503);
    await response.body.dump();
    expect(hits.get("/always-503")).toBe(1);
  });

  test("gives up after the retry budget and returns the last response", async () => {
    hits = new Map();
    const response = await httpRequest(`${base}/always-503`, { retries: 1 });
    expect(response.status).toBe(503);
    await response.body.dump();
    expect(hits.get("/always-503")).toBe(2);
  });

  test("follows redirects", async () => {
    const response = await httpRequest(`${base}/redirect`);
    expect(await response.body.text()).toBe("landed with auth=none");
  });

  test("an unreachable host is a network error naming it", async () => {
    const closed = net.createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => closed.once("listening", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    closed.close();
    try {
      await httpRequest(`http://127.0.0.1:${port}/`, { retries: 0 });
      throw new Error("expected a network error");
    } catch (err) {
      expect(err).toBeInstanceOf(A3sError);
      expect((err as A3sError).code).toBe("network");
      expect((err as A3sError).message).toContain(`127.0.0.1:${port}`);
    }
  });

  test("invalid JSON is reported with the URL", async () => {
    const response = await httpRequest(`${base}/not-json`);
    await expect(readJson(response)).rejects.toThrow(/not-json returned invalid JSON/);
  });

  test("goes through HTTP_PROXY with CONNECT, and NO_PROXY bypasses it", async () => {
    let tunnels = 0;
    const proxy = net.createServer((client) => {
      client.once("data", (head) => {
        const [, target = ""] = head.toString().split(" ");
        const [host = "", port = ""] = target.split(":");
        tunnels++;
        const upstream = net.connect(Number(port), host, () => {
          client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
          upstream.pipe(client);
          client.pipe(upstream);
        });
      });
    });
    proxy.listen(0, "127.0.0.1");
    await new Promise((resolve) => proxy.once("listening", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    try {
      const viaProxy = await createDispatcher({ HTTP_PROXY: proxyUrl });
      const response = await httpRequest(`${base}/target`, { dispatcher: viaProxy });
      expect(await response.body.text()).toStartWith("landed");
      expect(tunnels).toBe(1);

      const bypass = await createDispatcher({ HTTP_PROXY: proxyUrl, NO_PROXY: "127.0.0.1" });
      await (await httpRequest(`${base}/target`, { dispatcher: bypass })).body.text();
      expect(tunnels).toBe(1);
    } finally {
      proxy.close();
    }
  });
});

describe("backoff", () => {
  test("grows exponentially with jitter and is capped", () => {
    expect(backoff(0, () => 0)).toBe(100);
    expect(backoff(0, () => 1)).toBe(200);
    expect(backoff(3, () => 1)).toBe(1600);
    expect(backoff(20, () => 1)).toBe(8000);
  });

  test("Retry-After as seconds or date, capped at a minute", () => {
    expect(retryAfter("2")).toBe(2000);
    expect(retryAfter("100000")).toBe(60_000);
    expect(retryAfter(new Date(10_000).toUTCString(), 7_000)).toBe(3000);
    expect(retryAfter("soon")).toBeUndefined();
    expect(retryAfter(undefined)).toBeUndefined();
  });
});
