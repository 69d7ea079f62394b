/**
 * Tavily's search API (POST api.tavily.com/search, Bearer key): `results[]` {title, url, content,
 * score, published_date}. It has no pages; page 2 and later are empty.
 */
import { isoDate, parseJsonBody } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";

interface TavilyResponse {
  results?: Array<{ title?: string; url?: string; content?: string; published_date?: string }>;
}

export function parseTavily(text: string, status = 200): EngineResult[] {
  const body = parseJsonBody<TavilyResponse>("tavily", { status, text });
  const results: EngineResult[] = [];
  for (const hit of body.results ?? []) {
    if (!hit.url) continue;
    const result: EngineResult = {
      url: hit.url,
      title: hit.title ?? hit.url,
      snippet: (hit.content ?? "").replace(/\s+/g, " ").trim(),
    };
    const date = isoDate(hit.published_date);
    if (date) result.publishedDate = date;
    results.push(result);
  }
  return results;
}

export const tavily: Engine = {
  name: "tavily",
  shortcut: "tv",
  categories: ["general", "web"],
  weight: 1.1,
  baseUrl: "https://api.tavily.com",
  apiKeyEnv: "TAVILY_API_KEY",
  apiKeyRequired: true,
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    if (page > 1) return [];
    const body: Record<string, unknown> = {
      query,
      max_results: 20,
      search_depth: "basic",
      include_answer: false,
    };
    if (options.time) body.time_range = options.time;
    const response = await options.http.fetch(`${options.baseUrl.replace(/\/$/, "")}/search`, {
      method: "POST",
      json: body,
      headers: { authorization: `Bearer ${options.apiKey ?? ""}` },
    });
    return parseTavily(response.text, response.status);
  },
};
