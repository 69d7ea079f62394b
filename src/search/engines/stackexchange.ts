/**
 * The Stack Exchange API (api.stackexchange.com/2.3/search/advanced) on one site (stackoverflow by
 * default). Responses are always compressed and wrapped ({items, has_more, quota_remaining});
 * errors come as {error_id, error_name, error_message}. Titles are HTML-escaped; the body (asked for
 * with filter=withbody) is HTML and becomes the snippet's first sentences.
 */
import { A3sError } from "../../core/errors.ts";
import { isoDate, stripTags } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { TIME_RANGE_SECONDS } from "./common.ts";

export const STACKEXCHANGE_PAGE_SIZE = 20;
const SNIPPET_CHARS = 280;

interface StackResponse {
  error_id?: number;
  error_name?: string;
  error_message?: string;
  items?: Array<{
    title?: string;
    link?: string;
    body?: string;
    score?: number;
    answer_count?: number;
    is_answered?: boolean;
    tags?: string[];
    creation_date?: number;
    last_activity_date?: number;
  }>;
}

export function parseStackExchange(text: string, status = 200): EngineResult[] {
  let body: StackResponse;
  try {
    body = JSON.parse(text) as StackResponse;
  } catch {
    throw new A3sError("integrity", `stackexchange returned a response that is not JSON (HTTP ${status})`);
  }
  if (body.error_id !== undefined || status >= 400) {
    throw new A3sError(
      "network",
      `stackexchange: ${body.error_name ?? `HTTP ${status}`}: ${body.error_message ?? ""}`.trim(),
    );
  }
  const results: EngineResult[] = [];
  for (const item of body.items ?? []) {
    if (!item.link || !item.title) continue;
    const facts = [
      item.score === undefined ? undefined : `score ${item.score}`,
      item.answer_count === undefined
        ? undefined
        : `${item.answer_count} answers${item.is_answered ? " (answered)" : ""}`,
      item.tags && item.tags.length > 0 ? item.tags.join(", ") : undefined,
    ].filter(Boolean);
    const text = stripTags(item.body ?? "");
    const excerpt =
      text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS).replace(/\s+\S*$/, "")}…` : text;
    const snippet = [excerpt, facts.join(" · ")].filter((part) => part !== "").join(" — ");
    const result: EngineResult = { url: item.link, title: stripTags(item.title), snippet };
    const date = isoDate(item.creation_date);
    if (date) result.publishedDate = date;
    results.push(result);
  }
  return results;
}

export const stackexchange: Engine = {
  name: "stackexchange",
  shortcut: "se",
  aliases: ["so-q", "stackoverflow"],
  categories: ["code"],
  weight: 0.9,
  baseUrl: "https://api.stackexchange.com",
  apiKeyEnv: "STACKEXCHANGE_KEY",
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const params = new URLSearchParams({
      q: query,
      site: options.settings.stackexchangeSite ?? "stackoverflow",
      order: "desc",
      sort: "relevance",
      filter: "withbody",
      pagesize: String(STACKEXCHANGE_PAGE_SIZE),
      page: String(page),
    });
    if (options.time) {
      params.set("fromdate", String(Math.floor(Date.now() / 1000) - TIME_RANGE_SECONDS[options.time]));
    }
    // A key is optional: it only raises the daily quota.
    if (options.apiKey) params.set("key", options.apiKey);
    const response = await options.http.fetch(
      `${options.baseUrl.replace(/\/$/, "")}/2.3/search/advanced?${params}`,
    );
    return parseStackExchange(response.text, response.status);
  },
};
