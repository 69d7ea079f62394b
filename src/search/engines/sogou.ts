/**
 * Sogou web search (www.sogou.com/web). Results are `div.vrwrap` (and the older `div.rb`), titled
 * by `h3.vr-title a` (or `h3.pt a`); hrefs are Sogou redirects (`/link?url=…`) while the target sits
 * in a `data-url` attribute inside the result. A bot check is a redirect to /antispider/.
 */
import { assertNoBotCheck, attr, checkPage, type HTMLElement, parseHtml, textOf } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { absoluteUrl } from "../url.ts";
import { assertNotSilentBlock } from "./common.ts";

const SNIPPET_SELECTORS = [
  ".space-txt",
  ".star-wiki",
  ".text-layout",
  ".attribute-centent",
  ".fz-mid",
  "div.ft",
  "p.str_info",
];

function snippetOf(item: HTMLElement): string {
  for (const selector of SNIPPET_SELECTORS) {
    const text = textOf(item.querySelector(selector));
    if (text !== "") return text;
  }
  return "";
}

export function parseSogou(html: string, base = "https://www.sogou.com"): EngineResult[] {
  assertNoBotCheck("sogou", html);
  const root = parseHtml(html);
  const results: EngineResult[] = [];
  for (const item of root.querySelectorAll("div.vrwrap, div.rb")) {
    if (item.querySelector(".special-wrap")) continue;
    const link = item.querySelector("h3.vr-title a") ?? item.querySelector("h3.pt a");
    const href = attr(link, "href");
    if (link === null || href === undefined) continue;
    const target = attr(item.querySelector("[data-url]"), "data-url");
    const url = href.startsWith("/link?url=") ? (target ?? absoluteUrl(href, base)) : absoluteUrl(href, base);
    const title = textOf(link);
    if (!url || !title) continue;
    const result: EngineResult = { url, title, snippet: snippetOf(item) };
    const date = textOf(item.querySelector("span.cite-date")).match(/(\d{4})-(\d{1,2})-(\d{1,2})/);
    if (date) {
      result.publishedDate = new Date(
        Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])),
      ).toISOString();
    }
    const thumbnail = attr(item.querySelector(".img-layout img"), "src");
    if (thumbnail) result.thumbnail = thumbnail.replace(/^http:\/\//, "https://");
    results.push(result);
  }
  if (results.length === 0) assertNotSilentBlock("sogou", root);
  return results;
}

export const sogou: Engine = {
  name: "sogou",
  shortcut: "sg",
  categories: ["general", "web"],
  weight: 0.7,
  baseUrl: "https://www.sogou.com",
  api: false,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({ query, page: String(page) });
    if (options.time) {
      params.set("s_from", `inttime_${options.time}`);
      params.set("tsn", "1");
    }
    const base = options.baseUrl.replace(/\/$/, "");
    const response = await options.http.fetch(`${base}/web?${params}`, {
      blockedRedirect: /\/antispider\b/i,
    });
    checkPage("sogou", response);
    return parseSogou(response.text, base);
  },
};
