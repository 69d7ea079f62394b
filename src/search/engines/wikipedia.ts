/**
 * Wikipedia through the MediaWiki Action API (list=search, formatversion=2), on the wiki of the
 * requested language. Snippets come as HTML with `<span class="searchmatch">` highlights.
 */
import { A3sError } from "../../core/errors.ts";
import { isoDate, parseJsonBody, stripTags } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { splitLang } from "./common.ts";

export const WIKIPEDIA_PAGE_SIZE = 20;

interface SearchResponse {
  error?: { code?: string; info?: string };
  query?: {
    search?: Array<{ title?: string; pageid?: number; snippet?: string; timestamp?: string }>;
  };
}

export function wikiLanguage(lang: string | undefined): string {
  return splitLang(lang).language ?? "en";
}

export function parseWikipedia(text: string, language = "en", status = 200): EngineResult[] {
  const body = parseJsonBody<SearchResponse>("wikipedia", { status, text });
  if (body.error) {
    throw new A3sError("network", `wikipedia: ${body.error.info ?? body.error.code ?? "API error"}`);
  }
  const results: EngineResult[] = [];
  for (const hit of body.query?.search ?? []) {
    if (!hit.title) continue;
    const path = encodeURIComponent(hit.title.replace(/ /g, "_")).replace(/%2F/g, "/").replace(/%3A/g, ":");
    const result: EngineResult = {
      url: `https://${language}.wikipedia.org/wiki/${path}`,
      title: hit.title,
      snippet: stripTags(hit.snippet ?? ""),
    };
    const date = isoDate(hit.timestamp);
    if (date) result.publishedDate = date;
    results.push(result);
  }
  return results;
}

export const wikipedia: Engine = {
  name: "wikipedia",
  shortcut: "wiki",
  aliases: ["wp"],
  categories: ["general", "reference"],
  weight: 0.8,
  baseUrl: "https://{lang}.wikipedia.org",
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const language = wikiLanguage(options.lang);
    const base = options.baseUrl.replace("{lang}", language).replace(/\/$/, "");
    const params = new URLSearchParams({
      action: "query",
      list: "search",
      srsearch: query,
      srlimit: String(WIKIPEDIA_PAGE_SIZE),
      sroffset: String((page - 1) * WIKIPEDIA_PAGE_SIZE),
      srprop: "snippet|timestamp",
      format: "json",
      formatversion: "2",
      utf8: "1",
    });
    const response = await options.http.fetch(`${base}/w/api.php?${params}`);
    return parseWikipedia(response.text, language, response.status);
  },
};
