/**
 * Bing's HTML results page (www.bing.com/search). Results are `ol#b_results > li.b_algo` with the
 * link in `h2 a`; links are often Bing click-trackers (`/ck/a?…&u=a1<base64url of the target>`),
 * unwrapped here. The caption paragraph may start with a date ("Mar 3, 2024 · …").
 */
import { assertNoBotCheck, attr, checkPage, type HTMLElement, parseHtml, textOf } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { assertNotSilentBlock, splitLang, splitLeadingDate } from "./common.ts";

const SAFE = { off: "off", moderate: "moderate", strict: "strict" } as const;

/** Bing's click-tracker URL → the target it redirects to. */
export function unwrapBingUrl(href: string): string {
  if (!/^https?:\/\/(?:www\.)?bing\.com\/ck\/a\?/.test(href)) return href;
  const u = new URL(href).searchParams.get("u");
  if (!u?.startsWith("a1")) return href;
  try {
    const decoded = Buffer.from(u.slice(2), "base64url").toString("utf8");
    return /^https?:\/\//.test(decoded) ? decoded : href;
  } catch {
    return href;
  }
}

function captionText(node: HTMLElement): string {
  // The "Web" label Bing puts before some captions is not part of the snippet.
  for (const icon of node.querySelectorAll("span.algoSlug_icon")) icon.remove();
  const caption = node.querySelector(".b_caption p") ?? node.querySelector("p");
  return textOf(caption);
}

export function parseBing(html: string): EngineResult[] {
  assertNoBotCheck("bing", html);
  const root = parseHtml(html);
  const results: EngineResult[] = [];
  for (const node of root.querySelectorAll("#b_results > li.b_algo")) {
    const link = node.querySelector("h2 a");
    const href = attr(link, "href");
    if (href === undefined) continue;
    const { date, rest } = splitLeadingDate(captionText(node));
    const result: EngineResult = { url: unwrapBingUrl(href), title: textOf(link), snippet: rest };
    if (date) result.publishedDate = date;
    results.push(result);
  }
  if (results.length === 0 && root.querySelector("#b_results") === null) assertNotSilentBlock("bing", root);
  return results;
}

export const bing: Engine = {
  name: "bing",
  shortcut: "bi",
  categories: ["general", "web"],
  weight: 1,
  baseUrl: "https://www.bing.com",
  api: false,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({ q: query, pq: query, adlt: SAFE[options.safe] });
    // Bing wants `first` and a matching FORM value from page 2 on, never on page 1.
    if (page > 1) {
      params.set("first", String((page - 1) * 10 + 1));
      params.set("FORM", page === 2 ? "PERE" : `PERE${page - 2}`);
    }
    const { language, region } = splitLang(options.lang);
    if (language) params.set("setlang", language);
    if (region) params.set("cc", region);
    let url = `${options.baseUrl.replace(/\/$/, "")}/search?${params}`;
    if (options.time) {
      const today = Math.floor(Date.now() / 86_400_000);
      const code = { day: "1", week: "2", month: "3", year: `5_${today - 365}_${today}` }[options.time];
      url += `&filters=${encodeURIComponent(`ex1:"ez${code}"`)}`;
    }
    const response = await options.http.fetch(url, { blockedRedirect: /\/(?:challenge|captcha|turing)\b/i });
    checkPage("bing", response);
    return parseBing(response.text);
  },
};
