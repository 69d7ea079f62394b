/**
 * Mojeek's HTML results page (www.mojeek.com/search): `ul.results-standard > li`, the result link
 * `a.ob` (its href is the target), the title `h2 a`, the snippet `p.s`. Mojeek blocks automated
 * queries with an HTTP 403 page, reported as such.
 */
import { assertNoBotCheck, attr, checkPage, parseHtml, textOf } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { assertNotSilentBlock, sinceDate, splitLang } from "./common.ts";

export function parseMojeek(html: string): EngineResult[] {
  assertNoBotCheck("mojeek", html);
  const root = parseHtml(html);
  const results: EngineResult[] = [];
  for (const item of root.querySelectorAll("ul.results-standard > li")) {
    const heading = item.querySelector("h2 a");
    const url = attr(item.querySelector("a.ob"), "href") ?? attr(heading, "href");
    if (url === undefined) continue;
    results.push({ url, title: textOf(heading), snippet: textOf(item.querySelector("p.s")) });
  }
  if (results.length === 0 && root.querySelector(".results") === null) assertNotSilentBlock("mojeek", root);
  return results;
}

export const mojeek: Engine = {
  name: "mojeek",
  shortcut: "mjk",
  categories: ["general", "web"],
  weight: 0.8,
  baseUrl: "https://www.mojeek.com",
  api: false,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({ q: query, safe: options.safe === "off" ? "0" : "1" });
    // Sending s=0 on the first page trips Mojeek's rate limiter; only later pages carry it.
    if (page > 1) params.set("s", String((page - 1) * 10 + 1));
    if (options.time) params.set("since", sinceDate(options.time).replace(/-/g, ""));
    const { language, region } = splitLang(options.lang);
    if (language) params.set("lb", language);
    if (region) params.set("arc", region);
    const response = await options.http.fetch(`${options.baseUrl.replace(/\/$/, "")}/search?${params}`);
    checkPage("mojeek", response);
    return parseMojeek(response.text);
  },
};
