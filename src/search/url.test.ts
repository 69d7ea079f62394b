import { describe, expect, test } from "bun:test";
import { absoluteUrl, cleanUrl, normalizeUrl } from "./url.ts";

describe("normalizeUrl", () => {
  test("scheme, www., trailing slash, fragment and tracking parameters do not matter", () => {
    const variants = [
      "https://tokio.rs/",
      "http://tokio.rs",
      "https://www.tokio.rs/#top",
      "https://WWW.Tokio.RS/?utm_source=ddg&utm_medium=web",
      "https://tokio.rs:443/?fbclid=abc",
      "https://tokio.rs/index.html",
    ];
    for (const variant of variants) expect(normalizeUrl(variant)).toBe("tokio.rs");
  });

  test("meaningful query parameters stay, in a canonical order", () => {
    expect(normalizeUrl("https://example.com/search?b=2&a=1&utm_campaign=x")).toBe(
      "example.com/search?a=1&b=2",
    );
    expect(normalizeUrl("https://example.com/search?a=1")).not.toBe(
      normalizeUrl("https://example.com/search?a=2"),
    );
  });

  test("different paths and ports stay different", () => {
    expect(normalizeUrl("https://docs.rs/tokio/")).toBe("docs.rs/tokio");
    expect(normalizeUrl("https://docs.rs/tokio")).not.toBe(normalizeUrl("https://docs.rs/async-std"));
    expect(normalizeUrl("http://localhost:8080/a")).toBe("localhost:8080/a");
  });

  test("unparseable input is its own key", () => {
    expect(normalizeUrl("  not a url ")).toBe("not a url");
  });
});

describe("cleanUrl", () => {
  test("drops tracking parameters and the fragment but keeps the scheme and host", () => {
    expect(cleanUrl("https://www.example.com/a?utm_source=x&id=3#frag")).toBe(
      "https://www.example.com/a?id=3",
    );
  });
});

describe("absoluteUrl", () => {
  test("resolves protocol-relative and relative hrefs", () => {
    expect(absoluteUrl("//duckduckgo.com/l/?uddg=x", "https://html.duckduckgo.com/html/")).toBe(
      "https://duckduckgo.com/l/?uddg=x",
    );
    expect(absoluteUrl("/link?url=abc", "https://www.sogou.com/web?query=q")).toBe(
      "https://www.sogou.com/link?url=abc",
    );
  });
});
