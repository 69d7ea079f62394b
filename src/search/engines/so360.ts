/**
 * 360 Search (www.so.com/s). Results are `li.res-list` with the link in `h3.res-title a`; the
 * target is its `data-mdurl` when present (the href may be a so.com redirect); the snippet is
 * `p.res-desc` or `span.res-list-summary`.
 */
import { assertNoBotCheck, attr, checkPage, parseHtml, textOf } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { assertNotSilentBlock } from "./common.ts";

const TIME = { day: "d", week: "w", month: "m", year: "y" } as const;

export function parse360(html: string): EngineResult[] {
  assertNoBotCheck("360search", html);
  const root = parseHtml(html);
  const results: EngineResult[] = [];
  for (const item of root.querySelectorAll("li.res-list")) {
    const link = item.querySelector("h3.res-title a");
    const url = attr(link, "data-mdurl") ?? attr(link, "href");
    const title = textOf(link);
    if (!url || !title) continue;
    const snippet =
      textOf(item.querySelector("p.res-desc")) || textOf(item.querySelector("span.res-list-summary"));
    const result: EngineResult = { url, title, snippet };
    const thumbnail = attr(item.querySelector(".res-img img, img.res-img"), "src");
    if (thumbnail && /^https?:\/\//.test(thumbnail)) result.thumbnail = thumbnail;
    results.push(result);
  }
  if (results.length === 0) assertNotSilentBlock("360search", root);
  return results;
}

export const so360: Engine = {
  name: "360search",
  shortcut: "360",
  aliases: ["so"],
  categories: ["general", "web"],
  weight: 0.7,
  baseUrl: "https://www.so.com",
  api: false,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({ q: query, pn: String(page) });
    if (options.time) params.set("adv_t", TIME[options.time]);
    const response = await options.http.fetch(`${options.baseUrl.replace(/\/$/, "")}/s?${params}`, {
      blockedRedirect: /captcha/i,
    });
    checkPage("360search", response);
    return parse360(response.text);
  },
};
