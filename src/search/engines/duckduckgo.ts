/**
 * DuckDuckGo's no-JavaScript HTML endpoint (html.duckduckgo.com/html/, a form POST). Results are
 * `#links > div.web-result` (ads are `result--ad` and skipped); links may be DDG redirects
 * (`//duckduckgo.com/l/?uddg=<target>`). A bot check is its own page with `form#challenge-form`
 * or the "anomaly" modal. Later pages need the `vqd` token DDG puts in page 1's next-page form, so
 * page N first fetches page 1 and submits that form, as a browser would.
 */
import { A3sError } from "../../core/errors.ts";
import { assertNoBotCheck, attr, checkPage, type HTMLElement, parseHtml, textOf } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { absoluteUrl } from "../url.ts";
import { assertNotSilentBlock, splitLang, splitLeadingDate } from "./common.ts";

const TIME = { day: "d", week: "w", month: "m", year: "y" } as const;
const SAFE = { off: "-2", moderate: "-1", strict: "1" } as const;

/** DDG's region code ("kl"): country-language, "wt-wt" for no region. */
export function ddgRegion(lang: string | undefined): string {
  const { language, region } = splitLang(lang);
  if (!language) return "wt-wt";
  const country = region === "gb" ? "uk" : (region ?? (language === "en" ? "us" : language));
  return `${country}-${language}`;
}

export function parseDuckDuckGo(html: string, pageUrl = "https://html.duckduckgo.com/html/"): EngineResult[] {
  assertNoBotCheck("duckduckgo", html);
  const root = parseHtml(html);
  const results: EngineResult[] = [];
  for (const node of root.querySelectorAll("#links div.web-result")) {
    if (node.classList.contains("result--ad")) continue;
    const link = node.querySelector("h2 a") ?? node.querySelector("a.result__a");
    const href = attr(link, "href");
    const url = href === undefined ? undefined : ddgTarget(href, pageUrl);
    if (url === undefined) continue;
    const { date, rest } = splitLeadingDate(textOf(node.querySelector(".result__snippet")));
    const result: EngineResult = { url, title: textOf(link), snippet: rest };
    if (date) result.publishedDate = date;
    results.push(result);
  }
  if (results.length === 0 && root.querySelector(".no-results") === null)
    assertNotSilentBlock("duckduckgo", root);
  return results;
}

/** The result's own URL: DDG's /l/?uddg= redirect unwrapped, relative links resolved. */
function ddgTarget(href: string, pageUrl: string): string | undefined {
  const absolute = absoluteUrl(href, pageUrl);
  if (absolute === undefined) return undefined;
  const url = new URL(absolute);
  if (url.pathname === "/l/" && url.searchParams.has("uddg"))
    return url.searchParams.get("uddg") ?? undefined;
  // An ad click (y.js) is not a result.
  if (url.hostname.endsWith("duckduckgo.com") && url.pathname.startsWith("/y.js")) return undefined;
  return absolute;
}

/** The hidden fields of page 1's "Next" form (vqd, s, dc, nextParams…), or undefined on the last page. */
export function nextPageForm(html: string): Record<string, string> | undefined {
  const root = parseHtml(html);
  const form = root
    .querySelectorAll("form")
    .find(
      (f: HTMLElement) =>
        f.querySelector('input[name="vqd"]') !== null && f.querySelector('input[name="s"]') !== null,
    );
  if (!form) return undefined;
  const fields: Record<string, string> = {};
  for (const input of form.querySelectorAll("input")) {
    const name = input.getAttribute("name");
    if (name && input.getAttribute("type") !== "submit") fields[name] = input.getAttribute("value") ?? "";
  }
  return fields;
}

export const duckduckgo: Engine = {
  name: "duckduckgo",
  shortcut: "ddg",
  categories: ["general", "web"],
  weight: 1,
  baseUrl: "https://html.duckduckgo.com",
  api: false,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const endpoint = `${options.baseUrl.replace(/\/$/, "")}/html/`;
    const form: Record<string, string> = {
      q: query,
      b: "",
      kl: ddgRegion(options.lang),
      kp: SAFE[options.safe],
    };
    if (options.time) form.df = TIME[options.time];
    const headers = { referer: endpoint, cookie: `kl=${form.kl}${form.df ? `; df=${form.df}` : ""}` };
    let response = await options.http.fetch(endpoint, { method: "POST", form, headers });
    checkPage("duckduckgo", response);
    if (page > 1) {
      const next = nextPageForm(response.text);
      if (next === undefined) return [];
      // Page 2 starts at 10, every later page is 15 further (what DDG's own form sends).
      const offset = 10 + (page - 2) * 15;
      const fields: Record<string, string> = {
        ...next,
        s: String(offset),
        dc: String(offset + 1),
        kl: form.kl ?? "wt-wt",
      };
      if (form.df) fields.df = form.df;
      response = await options.http.fetch(endpoint, { method: "POST", form: fields, headers });
      checkPage("duckduckgo", response);
    }
    if (response.status === 202 && !response.text.includes("web-result")) {
      throw new A3sError("network", "duckduckgo answered HTTP 202 without results (rate limited)");
    }
    return parseDuckDuckGo(response.text, endpoint);
  },
};
