import { afterAll, describe, expect, test } from "bun:test";
import { tempDir, toolContext } from "./testing.ts";
import { MAX_DOWNLOAD_BYTES, MAX_OUTPUT_CHARS, webFetchTool } from "./web-fetch.ts";

const PAGE = `<html><head><title>Guide</title></head><body><nav>menu</nav><main>
<h1>Install</h1><p>Run <code>npm i</code>, then read <a href="next.html">the next page</a>.</p>
</main></body></html>`;

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request) {
    const path = new URL(request.url).pathname;
    const html = { "content-type": "text/html; charset=utf-8" };
    switch (path) {
      case "/docs/guide.html":
        return new Response(PAGE, { headers: html });
      case "/old":
        return new Response(null, { status: 301, headers: { location: "/docs/guide.html" } });
      case "/loop":
        return new Response(null, { status: 302, headers: { location: "/loop" } });
      case "/to-file":
        return new Response(null, { status: 302, headers: { location: "file:///etc/passwd" } });
      case "/data.json":
        return Response.json({ name: "a3s", tags: ["x"] });
      case "/big.txt":
        return new Response("0123456789\n".repeat(600_000), { headers: { "content-type": "text/plain" } });
      case "/long.txt":
        return new Response("a".repeat(MAX_OUTPUT_CHARS + 500), {
          headers: { "content-type": "text/plain" },
        });
      case "/logo.png":
        return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), {
          headers: { "content-type": "image/png" },
        });
      case "/blob":
        return new Response(new Uint8Array([1, 2, 0, 3, 4]), { headers: { "content-type": "" } });
      default:
        return new Response("no such page", { status: 404 });
    }
  },
});
afterAll(() => server.stop(true));

const base = `http://127.0.0.1:${server.port}`;
const ctx = toolContext(tempDir());
const fetchPage = (url: string, start_index = 0) => webFetchTool.run({ url, start_index }, ctx);

describe("web_fetch", () => {
  test("HTML becomes Markdown with the title and links made absolute", async () => {
    const result = await fetchPage(`${base}/docs/guide.html`);
    expect(result.content).toBe(
      `URL: ${base}/docs/guide.html\nTitle: Guide\n\n# Install\n\nRun \`npm i\`, then read [the next page](${base}/docs/next.html).`,
    );
    expect(result.summary).toMatch(/^Fetched .* from 127\.0\.0\.1:\d+ \(HTTP 200\)$/);
  });

  test("redirects are followed and links resolve against the final URL", async () => {
    const result = await fetchPage(`${base}/old`);
    expect(result.content).toStartWith(
      `URL: ${base}/docs/guide.html\n(redirected from ${base}/old)\nTitle: Guide`,
    );
    expect(result.content).toContain(`(${base}/docs/next.html)`);
  });

  test("redirect loops and redirects away from http(s) are refused", async () => {
    expect((await fetchPage(`${base}/loop`)).content).toContain("more than 10 redirects");
    expect((await fetchPage(`${base}/to-file`)).content).toContain(
      "only http and https URLs can be fetched, not file:",
    );
    expect((await fetchPage("ftp://example.com/x")).content).toContain("not ftp:");
    expect((await fetchPage("not a url")).content).toContain("not a valid URL");
  });

  test("JSON passes through; errors and binaries are refused", async () => {
    const json = await fetchPage(`${base}/data.json`);
    expect(json.content).toBe(`URL: ${base}/data.json\n\n{"name":"a3s","tags":["x"]}`);
    const missing = await fetchPage(`${base}/nope`);
    expect(missing.isError).toBe(true);
    expect(missing.content).toContain("answered HTTP 404");
    const png = await fetchPage(`${base}/logo.png`);
    expect(png.content).toContain("is image/png (8 B); web_fetch reads text and web pages only");
    expect((await fetchPage(`${base}/blob`)).content).toContain("is binary file");
  });

  test("the download stops at its cap and says so", async () => {
    const result = await fetchPage(`${base}/big.txt`);
    expect(result.content).toContain(`the download stopped at ${MAX_DOWNLOAD_BYTES / 1024 / 1024}.0 MB`);
    expect(result.summary).toContain("5.0 MB");
  });

  test("long answers are cut and continue from start_index", async () => {
    const first = await fetchPage(`${base}/long.txt`);
    expect(first.content).toContain(
      `(showing characters 0-${MAX_OUTPUT_CHARS} of ${MAX_OUTPUT_CHARS + 500}; call again with start_index=${MAX_OUTPUT_CHARS} to read on)`,
    );
    const rest = await fetchPage(`${base}/long.txt`, MAX_OUTPUT_CHARS);
    expect(rest.content).toBe(`URL: ${base}/long.txt\n\n${"a".repeat(500)}`);
  });

  test("the permission subject is the host", () => {
    expect(webFetchTool.ruleSubject({ url: "https://docs.github.com/en/x", start_index: 0 }, ctx)).toBe(
      "domain:docs.github.com",
    );
    expect(webFetchTool.ruleSubject({ url: "nonsense", start_index: 0 }, ctx)).toBeUndefined();
    expect(webFetchTool.readOnly).toBe(true);
  });
});
