/**
 * The Bing Web Search API v7 (api.bing.microsoft.com/v7.0/search), key in Ocp-Apim-Subscription-Key.
 * Pages are `webPages.value[]` {name, url, snippet, datePublished, dateLastCrawled, thumbnailUrl};
 * errors are {error: {code, message}} (older: {errors: [...]}).
 */
import { A3sError } from "../../core/errors.ts";
import { isoDate } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { splitLang } from "./common.ts";

const SAFE = { off: "Off", moderate: "Moderate", strict: "Strict" } as const;
const FRESHNESS = { day: "Day", week: "Week", month: "Month", year: undefined } as const;

interface BingApiResponse {
  error?: { code?: string; message?: string };
  errors?: Array<{ code?: string; message?: string }>;
  webPages?: {
    value?: Array<{
      name?: string;
      url?: string;
      snippet?: string;
      datePublished?: string;
      thumbnailUrl?: string;
    }>;
  };
}

export function parseBingApi(text: string, status = 200): EngineResult[] {
  let body: BingApiResponse;
  try {
    body = JSON.parse(text) as BingApiResponse;
  } catch {
    throw new A3sError("integrity", `bing-api returned a response that is not JSON (HTTP ${status})`);
  }
  const error = body.error ?? body.errors?.[0];
  if (error || status >= 400) {
    throw new A3sError(
      status === 401 || status === 403 ? "permission" : "network",
      `bing-api: ${error?.message ?? `HTTP ${status}`}`,
    );
  }
  const results: EngineResult[] = [];
  for (const page of body.webPages?.value ?? []) {
    if (!page.url) continue;
    const result: EngineResult = { url: page.url, title: page.name ?? page.url, snippet: page.snippet ?? "" };
    const date = isoDate(page.datePublished);
    if (date) result.publishedDate = date;
    if (page.thumbnailUrl) result.thumbnail = page.thumbnailUrl;
    results.push(result);
  }
  return results;
}

export const bingApi: Engine = {
  name: "bing-api",
  shortcut: "bia",
  categories: ["general", "web"],
  weight: 1.2,
  baseUrl: "https://api.bing.microsoft.com",
  apiKeyEnv: "BING_API_KEY",
  apiKeyRequired: true,
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({
      q: query,
      count: "20",
      offset: String((page - 1) * 20),
      safeSearch: SAFE[options.safe],
      responseFilter: "Webpages",
    });
    const freshness = options.time ? FRESHNESS[options.time] : undefined;
    if (freshness) params.set("freshness", freshness);
    const { language, region } = splitLang(options.lang);
    if (language) params.set("setLang", language);
    if (language && region) params.set("mkt", `${language}-${region.toUpperCase()}`);
    const response = await options.http.fetch(`${options.baseUrl.replace(/\/$/, "")}/v7.0/search?${params}`, {
      headers: { "ocp-apim-subscription-key": options.apiKey ?? "" },
    });
    return parseBingApi(response.text, response.status);
  },
};
