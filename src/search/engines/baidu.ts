/**
 * Baidu web search in its JSON form (www.baidu.com/s?tn=json): `feed.entry[]` with title, url,
 * abs (abstract) and time (Unix seconds); titles and abstracts carry HTML entities, and the list
 * ends with an empty object. A bot check is a redirect to wappass.baidu.com's CAPTCHA, or its
 * "百度安全验证" page.
 */
import { A3sError } from "../../core/errors.ts";
import { checkPage, isoDate, stripTags } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { TIME_RANGE_SECONDS } from "./common.ts";

export const BAIDU_PAGE_SIZE = 20;

interface BaiduResponse {
  feed?: { entry?: Array<{ title?: string; url?: string; abs?: string; time?: number | string } | null> };
}

export function parseBaidu(text: string): EngineResult[] {
  let body: BaiduResponse;
  try {
    body = JSON.parse(text) as BaiduResponse;
  } catch {
    throw new A3sError("integrity", "baidu returned a response that is not JSON");
  }
  const results: EngineResult[] = [];
  for (const entry of body.feed?.entry ?? []) {
    if (!entry?.title || !entry.url) continue;
    const result: EngineResult = {
      url: entry.url,
      title: stripTags(entry.title),
      snippet: stripTags(entry.abs ?? ""),
    };
    const date = isoDate(typeof entry.time === "string" ? Number(entry.time) : entry.time);
    if (date) result.publishedDate = date;
    results.push(result);
  }
  return results;
}

export const baidu: Engine = {
  name: "baidu",
  shortcut: "bd",
  categories: ["general", "web"],
  weight: 0.8,
  baseUrl: "https://www.baidu.com",
  api: false,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({
      wd: query,
      rn: String(BAIDU_PAGE_SIZE),
      pn: String((page - 1) * BAIDU_PAGE_SIZE),
      tn: "json",
    });
    if (options.time) {
      const now = Math.floor(Date.now() / 1000);
      params.set("gpc", `stf=${now - TIME_RANGE_SECONDS[options.time]},${now}|stftype=1`);
    }
    const response = await options.http.fetch(`${options.baseUrl.replace(/\/$/, "")}/s?${params}`, {
      blockedRedirect: /wappass\.baidu\.com|\/static\/captcha/i,
    });
    checkPage("baidu", response);
    return parseBaidu(response.text);
  },
};
