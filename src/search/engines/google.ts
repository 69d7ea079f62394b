/**
 * Google Programmable Search (the Custom Search JSON API, www.googleapis.com/customsearch/v1): a key
 * and an engine id (cx). Results are `items[]` {title, link, snippet, pagemap.cse_thumbnail[0].src,
 * pagemap.metatags[0]["article:published_time"]}; 10 per page at most, `start` is 1-based.
 */
import { A3sError } from "../../core/errors.ts";
import { isoDate } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { splitLang } from "./common.ts";

const DATE_RESTRICT = { day: "d1", week: "w1", month: "m1", year: "y1" } as const;

interface GoogleResponse {
  error?: { code?: number; message?: string };
  items?: Array<{
    title?: string;
    link?: string;
    snippet?: string;
    pagemap?: {
      cse_thumbnail?: Array<{ src?: string }>;
      metatags?: Array<Record<string, string>>;
    };
  }>;
}

export function parseGoogle(text: string, status = 200): EngineResult[] {
  let body: GoogleResponse;
  try {
    body = JSON.parse(text) as GoogleResponse;
  } catch {
    throw new A3sError("integrity", `google returned a response that is not JSON (HTTP ${status})`);
  }
  if (body.error || status >= 400) {
    const message = body.error?.message ?? `HTTP ${status}`;
    throw new A3sError(status === 401 || status === 403 ? "permission" : "network", `google: ${message}`);
  }
  const results: EngineResult[] = [];
  for (const item of body.items ?? []) {
    if (!item.link) continue;
    const result: EngineResult = {
      url: item.link,
      title: item.title ?? item.link,
      snippet: (item.snippet ?? "").replace(/\s+/g, " ").trim(),
    };
    const date = isoDate(item.pagemap?.metatags?.[0]?.["article:published_time"]);
    if (date) result.publishedDate = date;
    const thumbnail = item.pagemap?.cse_thumbnail?.[0]?.src;
    if (thumbnail) result.thumbnail = thumbnail;
    results.push(result);
  }
  return results;
}

export const google: Engine = {
  name: "google",
  shortcut: "go",
  aliases: ["google-cse"],
  categories: ["general", "web"],
  weight: 1.2,
  baseUrl: "https://www.googleapis.com",
  apiKeyEnv: "GOOGLE_API_KEY",
  apiKeyRequired: true,
  requires: ["googleCx"],
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const cx = options.settings.googleCx;
    if (!cx) {
      throw new A3sError("usage", "google: no Programmable Search engine id", {
        hint: "a3s config set search.googleCx <your cx>",
      });
    }
    const params = new URLSearchParams({
      key: options.apiKey ?? "",
      cx,
      q: query,
      num: "10",
      start: String((page - 1) * 10 + 1),
      safe: options.safe === "off" ? "off" : "active",
    });
    if (options.time) params.set("dateRestrict", DATE_RESTRICT[options.time]);
    const { language } = splitLang(options.lang);
    if (language) {
      params.set("lr", `lang_${language}`);
      params.set("hl", language);
    }
    const response = await options.http.fetch(
      `${options.baseUrl.replace(/\/$/, "")}/customsearch/v1?${params}`,
    );
    return parseGoogle(response.text, response.status);
  },
};
