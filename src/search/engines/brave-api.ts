/**
 * The Brave Search API (api.search.brave.com/res/v1/web/search), with the key in
 * X-Subscription-Token. Web results are `web.results[]` {title, url, description, page_age, age,
 * thumbnail.src}; descriptions carry <strong> highlights.
 */
import { isoDate, parseJsonBody, stripTags } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { splitLang } from "./common.ts";

const FRESHNESS = { day: "pd", week: "pw", month: "pm", year: "py" } as const;

interface BraveApiResponse {
  web?: {
    results?: Array<{
      title?: string;
      url?: string;
      description?: string;
      page_age?: string;
      thumbnail?: { src?: string } | null;
    }>;
  };
}

export function parseBraveApi(text: string, status = 200): EngineResult[] {
  const body = parseJsonBody<BraveApiResponse>("brave-api", { status, text });
  const results: EngineResult[] = [];
  for (const hit of body.web?.results ?? []) {
    if (!hit.url) continue;
    const result: EngineResult = {
      url: hit.url,
      title: stripTags(hit.title ?? hit.url),
      snippet: stripTags(hit.description ?? ""),
    };
    const date = isoDate(hit.page_age);
    if (date) result.publishedDate = date;
    if (hit.thumbnail?.src) result.thumbnail = hit.thumbnail.src;
    results.push(result);
  }
  return results;
}

export const braveApi: Engine = {
  name: "brave-api",
  shortcut: "bra",
  categories: ["general", "web"],
  weight: 1.2,
  baseUrl: "https://api.search.brave.com",
  apiKeyEnv: "BRAVE_API_KEY",
  apiKeyRequired: true,
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({
      q: query,
      count: "20",
      offset: String(page - 1),
      safesearch: options.safe,
    });
    if (options.time) params.set("freshness", FRESHNESS[options.time]);
    const { language } = splitLang(options.lang);
    if (language) params.set("search_lang", language);
    const response = await options.http.fetch(
      `${options.baseUrl.replace(/\/$/, "")}/res/v1/web/search?${params}`,
      {
        headers: { accept: "application/json", "x-subscription-token": options.apiKey ?? "" },
      },
    );
    return parseBraveApi(response.text, response.status);
  },
};
