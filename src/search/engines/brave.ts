/**
 * Brave Search's HTML results page (search.brave.com/search). Web results are
 * `div.snippet[data-type="web"]`; the result link wraps a `.title`, the description is
 * `.snippet-description` (older markup) or `.generic-snippet .content`, often led by a date
 * ("Mar 3, 2024 - …"). Settings travel in cookies (safesearch, country, ui_lang), as Brave's own
 * settings page sets them.
 */
import { assertNoBotCheck, attr, checkPage, parseHtml, textOf } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { assertNotSilentBlock, splitLang, splitLeadingDate } from "./common.ts";

const TIME = { day: "pd", week: "pw", month: "pm", year: "py" } as const;

export function parseBrave(html: string): EngineResult[] {
  assertNoBotCheck("brave", html);
  const root = parseHtml(html);
  let nodes = root.querySelectorAll('div.snippet[data-type="web"]');
  if (nodes.length === 0) nodes = root.querySelectorAll("div.snippet");
  const results: EngineResult[] = [];
  for (const node of nodes) {
    const link = node.querySelectorAll("a").find((a) => /^https?:\/\//.test(a.getAttribute("href") ?? ""));
    const url = attr(link, "href");
    const titleNode = link?.querySelector(".title") ?? node.querySelector(".title");
    // A partial URL or a missing title marks an ad or a widget, not a result.
    if (url === undefined || titleNode === null) continue;
    const description =
      node.querySelector(".snippet-description") ??
      node.querySelector(".generic-snippet .content") ??
      node.querySelector(".generic-snippet");
    const { date, rest } = splitLeadingDate(textOf(description));
    const result: EngineResult = { url, title: textOf(titleNode), snippet: rest };
    if (date) result.publishedDate = date;
    const thumbnail = attr(node.querySelector("img.thumb") ?? node.querySelector(".thumbnail img"), "src");
    if (thumbnail && /^https?:\/\//.test(thumbnail)) result.thumbnail = thumbnail;
    results.push(result);
  }
  if (results.length === 0) assertNotSilentBlock("brave", root);
  return results;
}

export const brave: Engine = {
  name: "brave",
  shortcut: "br",
  categories: ["general", "web"],
  weight: 1,
  baseUrl: "https://search.brave.com",
  api: false,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({ q: query, source: "web" });
    if (page > 1) params.set("offset", String(page - 1));
    if (options.time) params.set("tf", TIME[options.time]);
    const { language, region } = splitLang(options.lang);
    const cookies = [`safesearch=${options.safe}`, "useLocation=0", "summarizer=0"];
    if (region) cookies.push(`country=${region}`);
    if (language) cookies.push(`ui_lang=${language}-${region ?? (language === "en" ? "us" : language)}`);
    const response = await options.http.fetch(`${options.baseUrl.replace(/\/$/, "")}/search?${params}`, {
      headers: { cookie: cookies.join("; ") },
      blockedRedirect: /\/captcha\b/i,
    });
    checkPage("brave", response);
    return parseBrave(response.text);
  },
};
