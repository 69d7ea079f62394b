/**
 * A SearXNG instance's JSON API (/search?format=json; the instance must enable the json format,
 * otherwise it answers 403). Its results already merge several engines; we keep its order.
 */
import { A3sError } from "../../core/errors.ts";
import { isoDate, parseJsonBody } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";

const SAFE = { off: "0", moderate: "1", strict: "2" } as const;

interface SearxResponse {
  results?: Array<{
    url?: string;
    title?: string;
    content?: string;
    publishedDate?: string | null;
    thumbnail?: string | null;
    img_src?: string | null;
  }>;
}

export function parseSearxng(text: string, status = 200): EngineResult[] {
  const body = parseJsonBody<SearxResponse>("searxng", { status, text });
  const results: EngineResult[] = [];
  for (const hit of body.results ?? []) {
    if (!hit.url) continue;
    const result: EngineResult = { url: hit.url, title: hit.title ?? hit.url, snippet: hit.content ?? "" };
    const date = isoDate(hit.publishedDate ?? undefined);
    if (date) result.publishedDate = date;
    const thumbnail = hit.thumbnail || hit.img_src;
    if (thumbnail) result.thumbnail = thumbnail;
    results.push(result);
  }
  return results;
}

export const searxng: Engine = {
  name: "searxng",
  shortcut: "sx",
  aliases: ["searx"],
  categories: ["general", "web"],
  weight: 1,
  baseUrl: "",
  requires: ["searxngUrl"],
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    if (options.baseUrl === "") {
      throw new A3sError("usage", "searxng: no instance configured", {
        hint: "a3s config set search.searxngUrl https://your.instance",
      });
    }
    const params = new URLSearchParams({
      q: query,
      format: "json",
      pageno: String(page),
      safesearch: SAFE[options.safe],
    });
    if (options.lang) params.set("language", options.lang);
    if (options.time) params.set("time_range", options.time);
    const response = await options.http.fetch(`${options.baseUrl.replace(/\/$/, "")}/search?${params}`);
    if (response.status === 403) {
      throw new A3sError("permission", "searxng: the instance refuses format=json (HTTP 403)", {
        hint: "enable `json` under search.formats in the instance's settings.yml",
      });
    }
    return parseSearxng(response.text, response.status);
  },
};
