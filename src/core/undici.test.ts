import { afterAll, describe, expect, test } from "bun:test";
import * as full from "undici/index.js";
import { undici } from "./undici.ts";

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/moved") return Response.redirect(`${url.origin}/echo?from=moved`, 307);
    return new Response(`${request.method} ${url.pathname}${url.search}`);
  },
});
afterAll(() => server.stop(true));

describe("undici parts", () => {
  test("are the classes and functions undici's index exports", async () => {
    const parts = await undici();
    expect(parts.Agent).toBe(full.Agent);
    expect(parts.EnvHttpProxyAgent).toBe(full.EnvHttpProxyAgent);
    expect(parts.redirect).toBe(full.interceptors.redirect);
    expect(parts.errors).toBe(full.errors);
  });

  test("request() sends to the URL's origin and path, query included, through the dispatcher", async () => {
    const { Agent, redirect, request } = await undici();
    const dispatcher = new Agent().compose(redirect({ maxRedirections: 1 }));
    const direct = await request(new URL(`${server.url}echo?a=1&b=2`), { method: "POST", dispatcher });
    expect(direct.statusCode).toBe(200);
    expect(await direct.body.text()).toBe("POST /echo?a=1&b=2");
    const redirected = await request(new URL(`${server.url}moved`), { method: "GET", dispatcher });
    expect(await redirected.body.text()).toBe("GET /echo?from=moved");
    await dispatcher.close();
  });
});
