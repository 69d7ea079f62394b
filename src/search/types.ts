/**
 * The shapes shared by engines, the aggregator and the orchestrator. An engine turns a query into
 * results through the EngineHttp it is given, so proxies, user agents, timeouts and retries are the
 * orchestrator's business and every engine is tested against recorded responses alone.
 */

export type SafeSearch = "off" | "moderate" | "strict";
export type TimeRange = "day" | "week" | "month" | "year";
export type Category = "general" | "web" | "code" | "reference" | "news";

/** One hit as an engine reports it; position is its index in the engine's list (1-based). */
export interface EngineResult {
  url: string;
  title: string;
  snippet: string;
  /** ISO 8601 when the engine gives a date. */
  publishedDate?: string;
  thumbnail?: string;
}

export interface HttpRequestSpec {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** application/x-www-form-urlencoded body (DuckDuckGo's HTML endpoint is a form POST). */
  form?: Record<string, string>;
  /** JSON body (Tavily). */
  json?: unknown;
  /** A redirect whose Location matches is a bot check, not a page to follow. */
  blockedRedirect?: RegExp;
}

export interface FetchedPage {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Final URL after redirects. */
  url: string;
  text: string;
}

/** What an engine uses to reach the network: proxy, user agent, timeout and retry are applied here. */
export interface EngineHttp {
  fetch(url: string, spec?: HttpRequestSpec): Promise<FetchedPage>;
}

export interface EngineSearchOptions {
  http: EngineHttp;
  /** The engine's base URL (its public one, or search.baseUrls[name]). */
  baseUrl: string;
  lang?: string;
  safe: SafeSearch;
  time?: TimeRange;
  /** API key for engines that need one (read from the environment variable the config names). */
  apiKey?: string;
  /** Engine-specific settings from the config (Google's cx, the Stack Exchange site). */
  settings: Record<string, string | undefined>;
}

export interface Engine {
  name: string;
  shortcut: string;
  /** Other names accepted by -e (SearXNG's shortcuts, common abbreviations). */
  aliases?: readonly string[];
  categories: readonly Category[];
  /** Influence in the consensus ranking; 1 is an ordinary general web engine. */
  weight: number;
  /** Public base URL; search.baseUrls overrides it. */
  baseUrl: string;
  /** Environment variable read for the API key by default (search.apiKeyEnv.<name> overrides it). */
  apiKeyEnv?: string;
  /** True when the engine cannot work without that key; it is then unavailable until one is set. */
  apiKeyRequired?: boolean;
  /** Config settings the engine needs besides a key (e.g. googleCx). */
  requires?: readonly string[];
  /** False for engines whose pages are UTF-8 HTML for browsers: they get a browser user agent. */
  api: boolean;
  search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]>;
}
