import { describe, expect, test } from "bun:test";
import { AGREEMENT_BOOST, aggregate, type EngineRun, mostInformative, RRF_K } from "./rank.ts";
import type { EngineResult } from "./types.ts";

function hits(...urls: string[]): EngineResult[] {
  return urls.map((url) => ({ url, title: `title of ${url}`, snippet: "" }));
}

describe("aggregate", () => {
  test("URL variants from different engines merge into one result with every engine listed", () => {
    const runs: EngineRun[] = [
      { engine: "duckduckgo", weight: 1, results: hits("https://tokio.rs/", "https://docs.rs/tokio") },
      { engine: "brave", weight: 1, results: hits("http://www.tokio.rs?utm_source=brave") },
      { engine: "mojeek", weight: 1, results: hits("https://tokio.rs/#getting-started") },
    ];
    const ranked = aggregate(runs);
    expect(ranked).toHaveLength(2);
    expect(ranked[0]?.url).toBe("https://tokio.rs/");
    expect(ranked[0]?.engines).toEqual(["duckduckgo", "brave", "mojeek"]);
    expect(ranked[0]?.positions).toEqual({ duckduckgo: 1, brave: 1, mojeek: 1 });
    expect(ranked[1]?.url).toBe("https://docs.rs/tokio");
  });

  test("consensus beats a single engine's top hit", () => {
    const runs: EngineRun[] = [
      {
        engine: "a",
        weight: 1,
        results: hits("https://solo.example/", "https://x.example/", "https://shared.example/"),
      },
      {
        engine: "b",
        weight: 1,
        results: hits("https://y.example/", "https://z.example/", "https://shared.example/"),
      },
    ];
    const ranked = aggregate(runs);
    expect(ranked[0]?.url).toBe("https://shared.example/");
    const expected = (2 / (RRF_K + 3)) * (1 + AGREEMENT_BOOST);
    expect(ranked[0]?.score).toBeCloseTo(expected, 6);
    // Among single-engine hits, position decides; equal positions keep engine order.
    expect(ranked.slice(1).map((r) => r.url)).toEqual([
      "https://solo.example/",
      "https://y.example/",
      "https://x.example/",
      "https://z.example/",
    ]);
  });

  test("a heavier engine's hit outranks a lighter engine's at the same position", () => {
    const runs: EngineRun[] = [
      { engine: "light", weight: 0.5, results: hits("https://light.example/") },
      { engine: "heavy", weight: 2, results: hits("https://heavy.example/") },
    ];
    const ranked = aggregate(runs);
    expect(ranked.map((r) => r.url)).toEqual(["https://heavy.example/", "https://light.example/"]);
    expect(ranked[0]?.score).toBeCloseTo(2 / (RRF_K + 1), 6);
  });

  test("the title comes from the heaviest engine; date and thumbnail from whoever has them", () => {
    const runs: EngineRun[] = [
      {
        engine: "light",
        weight: 0.5,
        results: [
          {
            url: "https://a.example/",
            title: "Short",
            snippet: "",
            publishedDate: "2024-05-01T00:00:00.000Z",
          },
        ],
      },
      {
        engine: "heavy",
        weight: 1.5,
        results: [
          { url: "https://a.example", title: "The full title", snippet: "", thumbnail: "https://img/1.png" },
        ],
      },
    ];
    const [first] = aggregate(runs);
    expect(first?.title).toBe("The full title");
    expect(first?.publishedDate).toBe("2024-05-01T00:00:00.000Z");
    expect(first?.thumbnail).toBe("https://img/1.png");
  });

  test("an engine repeating a page counts once, at its best position", () => {
    const ranked = aggregate([
      { engine: "a", weight: 1, results: hits("https://a.example/", "http://a.example") },
    ]);
    expect(ranked).toHaveLength(1);
    expect(ranked[0]?.positions).toEqual({ a: 1 });
  });
});

describe("mostInformative", () => {
  test("prefers the snippet with the most words beyond the title, complete over truncated", () => {
    const title = "Tokio - An asynchronous Rust runtime";
    expect(
      mostInformative(
        [
          "Tokio - An asynchronous Rust runtime",
          "Tokio is an asynchronous runtime for the Rust programming language. It provides the building blocks...",
          "Build reliable network applications without compromising speed.",
        ],
        title,
      ),
    ).toStartWith("Tokio is an asynchronous runtime");
    expect(mostInformative(["one two three...", "one two three"])).toBe("one two three");
    expect(mostInformative([])).toBe("");
  });
});
