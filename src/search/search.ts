/**
 * The query orchestrator: every selected engine in parallel, each within its own timeout and all
 * within a total deadline; failures are reported beside the others' results; the answers are merged
 * by consensus ranking and cached.
 */
import type { Database } from "bun:sqlite";
import type { Config } from "../core/config.ts";
import { A3sError, isA3sError } from "../core/errors.ts";
import { logger } from "../core/log.ts";
import { type CacheKeyParts, cacheKey, SearchCache } from "./cache.ts";
import { ENGINES, resolveEngines } from "./engines/index.ts";
import { engineHttp } from "./http.ts";
import { ProxyPool, redact } from "./proxy-pool.ts";
import { aggregate, type EngineRun, type RankedResult } from "./rank.ts";
import type { Engine, EngineResult, SafeSearch, TimeRange } from "./types.ts";
import { API_USER_AGENT, rotateUserAgent } from "./useragent.ts";

const log = logger("search");

export type SearchConfig = Config["search"];

export interface SearchRequest {
  query: string;
  /** Engine names, shortcuts or aliases; search.engines when absent. */
  engines?: readonly string[];
  page?: number;
  limit?: number;
  lang?: string;
  safe?: SafeSearch;
  time?: TimeRange;
  timeoutMs?: number;
  deadlineMs?: number;
  /** Replaces search.proxies for this query. */
  proxies?: readonly string[];
  /** Skip reading the cache (the fresh answer is still stored). */
  noCache?: boolean;
  signal?: AbortSignal;
}

export interface EngineErrorInfo {
  code: string;
  message: string;
  hint?: string;
}

export interface EngineReport {
  name: string;
  shortcut: string;
  /** Wall time of this engine, request to parsed results. */
  ms: number;
  results: number;
  /** Proxy the engine's last request went through (password hidden); absent when direct. */
  proxy?: string;
  error: EngineErrorInfo | null;
}

export interface SearchHit extends RankedResult {
  rank: number;
}

export interface SearchResponse {
  query: string;
  page: number;
  /** True when the answer came from the cache; engines[] then describes the original run. */
  cached: boolean;
  /** When the engines were queried (ISO 8601). */
  searchedAt: string;
  tookMs: number;
  engines: EngineReport[];
  /** Results before --limit was applied. */
  total: number;
  results: SearchHit[];
}

export interface SearchDeps {
  config: SearchConfig;
  env: NodeJS.ProcessEnv;
  /** The cache is skipped without a database. */
  db?: Database;
  /** Shared across queries of one process so proxy health carries over. */
  pool?: ProxyPool;
}

export interface EngineSetup {
  engine: Engine;
  baseUrl: string;
  weight: number;
  apiKey?: string;
  /** Why the engine cannot run as configured (missing key or instance URL). */
  unavailable?: string;
}

/** How an engine is set up under this config: base URL, weight, key, and whether it can run. */
export function engineSetup(engine: Engine, config: SearchConfig, env: NodeJS.ProcessEnv): EngineSetup {
  const baseUrl =
    config.baseUrls[engine.name] ?? (engine.name === "searxng" ? (config.searxngUrl ?? "") : engine.baseUrl);
  const keyEnv = config.apiKeyEnv[engine.name] ?? engine.apiKeyEnv;
  const apiKey = keyEnv ? env[keyEnv] : undefined;
  const setup: EngineSetup = { engine, baseUrl, weight: config.weights[engine.name] ?? engine.weight };
  if (apiKey) setup.apiKey = apiKey;
  if (engine.apiKeyRequired && !apiKey) setup.unavailable = `no API key (set ${keyEnv})`;
  else if (engine.name === "searxng" && baseUrl === "")
    setup.unavailable = "no instance (set search.searxngUrl)";
  else if (engine.requires?.includes("googleCx") && !config.googleCx)
    setup.unavailable = "no engine id (set search.googleCx)";
  return setup;
}

export function listEngines(config: SearchConfig, env: NodeJS.ProcessEnv) {
  const defaults = resolveEngines(config.engines);
  return ENGINES.map((engine) => {
    const setup = engineSetup(engine, config, env);
    return {
      name: engine.name,
      shortcut: engine.shortcut,
      aliases: [...(engine.aliases ?? [])],
      categories: [...engine.categories],
      weight: setup.weight,
      default: defaults.includes(engine),
      available: setup.unavailable === undefined,
      reason: setup.unavailable ?? null,
      baseUrl: setup.baseUrl,
      apiKeyEnv: config.apiKeyEnv[engine.name] ?? engine.apiKeyEnv ?? null,
      proxied: config.proxies.length > 0 && !config.directEngines.includes(engine.name),
    };
  });
}

export async function search(deps: SearchDeps, request: SearchRequest): Promise<SearchResponse> {
  const started = performance.now();
  const { config, env } = deps;
  const query = request.query.trim();
  if (query === "") throw new A3sError("usage", "the search query is empty");
  const page = request.page ?? 1;
  const safe = request.safe ?? config.safe;
  const lang = request.lang ?? config.lang;
  const engines = resolveEngines(request.engines ?? config.engines);
  if (engines.length === 0) throw new A3sError("usage", "no search engine selected");
  const limit = request.limit ?? config.limit;
  const keyParts: CacheKeyParts = {
    query,
    engines: engines.map((e) => e.name),
    page,
    safe,
    ...(lang ? { lang } : {}),
    ...(request.time ? { time: request.time } : {}),
  };
  const cache = deps.db && config.cacheTtlSeconds > 0 ? new SearchCache(deps.db) : undefined;
  const key = cacheKey(keyParts);
  if (cache && !request.noCache) {
    const hit = cache.get<SearchResponse>(key);
    if (hit) {
      const response = hit.value;
      return {
        ...response,
        query,
        cached: true,
        tookMs: round(performance.now() - started),
        results: response.results.slice(0, limit),
      };
    }
  }

  const proxies = request.proxies ?? config.proxies;
  const pool =
    deps.pool ??
    (proxies.length > 0
      ? new ProxyPool(proxies, { connectTimeoutMs: request.timeoutMs ?? config.timeoutMs })
      : undefined);
  const timeoutMs = request.timeoutMs ?? config.timeoutMs;
  const deadline = started + (request.deadlineMs ?? config.deadlineMs);
  const searchedAt = new Date().toISOString();
  try {
    const outcomes = await Promise.all(
      engines.map((engine) =>
        runEngine(engineSetup(engine, config, env), {
          query,
          page,
          safe,
          ...(lang ? { lang } : {}),
          ...(request.time ? { time: request.time } : {}),
          timeoutMs: Math.max(1, Math.round(Math.min(timeoutMs, deadline - performance.now()))),
          ...(pool && !config.directEngines.includes(engine.name) ? { pool } : {}),
          env,
          settings: { googleCx: config.googleCx, stackexchangeSite: config.stackexchangeSite },
          ...(request.signal ? { signal: request.signal } : {}),
        }),
      ),
    );
    const succeeded = outcomes.filter((o) => o.report.error === null);
    if (succeeded.length === 0) {
      const detail = outcomes.map((o) => o.report.error?.message).join("; ");
      throw new A3sError("network", `every search engine failed (${detail})`, {
        hint: "retry later, raise --timeout, try other engines (-e), or route them through --proxy",
      });
    }
    const runs: EngineRun[] = succeeded.map((o) => ({
      engine: o.setup.engine.name,
      weight: o.setup.weight,
      results: o.results,
    }));
    const ranked = aggregate(runs).map((result, index) => ({ rank: index + 1, ...result }));
    const response: SearchResponse = {
      query,
      page,
      cached: false,
      searchedAt,
      tookMs: round(performance.now() - started),
      engines: outcomes.map((o) => o.report),
      total: ranked.length,
      results: ranked,
    };
    cache?.put(key, keyParts, response, config.cacheTtlSeconds);
    return { ...response, results: ranked.slice(0, limit) };
  } finally {
    if (!deps.pool) await pool?.close();
  }
}

interface RunOptions {
  query: string;
  page: number;
  safe: SafeSearch;
  lang?: string;
  time?: TimeRange;
  timeoutMs: number;
  pool?: ProxyPool;
  env: NodeJS.ProcessEnv;
  settings: Record<string, string | undefined>;
  signal?: AbortSignal;
}

interface Outcome {
  setup: EngineSetup;
  results: EngineResult[];
  report: EngineReport;
}

async function runEngine(setup: EngineSetup, options: RunOptions): Promise<Outcome> {
  const { engine } = setup;
  const started = performance.now();
  const report = (results: EngineResult[], error: EngineErrorInfo | null, proxy?: string): Outcome => ({
    setup,
    results,
    report: {
      name: engine.name,
      shortcut: engine.shortcut,
      ms: round(performance.now() - started),
      results: results.length,
      ...(proxy ? { proxy } : {}),
      error,
    },
  });
  if (setup.unavailable)
    return report([], { code: "usage", message: `${engine.name}: ${setup.unavailable}` });

  const controller = new AbortController();
  const onOuterAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The timer wins the race even against an engine that ignores its signal.
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve("timeout");
    }, options.timeoutMs);
  });
  let lastProxy: string | undefined;
  const http = engineHttp({
    engine: engine.name,
    userAgent: engine.api ? API_USER_AGENT : rotateUserAgent(),
    timeoutMs: options.timeoutMs,
    signal: controller.signal,
    env: options.env,
    ...(options.pool ? { pool: options.pool } : {}),
    onProxy: (url) => {
      lastProxy = redact(url);
    },
    ...(options.lang ? { lang: options.lang } : {}),
  });
  try {
    const outcome = await Promise.race([
      engine.search(options.query, options.page, {
        http,
        baseUrl: setup.baseUrl,
        safe: options.safe,
        settings: options.settings,
        ...(options.lang ? { lang: options.lang } : {}),
        ...(options.time ? { time: options.time } : {}),
        ...(setup.apiKey ? { apiKey: setup.apiKey } : {}),
      }),
      timedOut,
    ]);
    if (outcome === "timeout") {
      return report(
        [],
        { code: "network", message: `${engine.name}: timed out after ${options.timeoutMs} ms` },
        lastProxy,
      );
    }
    log.debug(`${engine.name}: ${outcome.length} results in ${round(performance.now() - started)} ms`);
    return report(outcome, null, lastProxy);
  } catch (err) {
    if (controller.signal.aborted && !options.signal?.aborted) {
      return report(
        [],
        { code: "network", message: `${engine.name}: timed out after ${options.timeoutMs} ms` },
        lastProxy,
      );
    }
    const error = isA3sError(err)
      ? err
      : new A3sError("internal", `${engine.name}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
    log.info(`${engine.name} failed: ${error.message}`, { code: error.code });
    const message = error.message.startsWith(engine.name)
      ? error.message
      : `${engine.name}: ${error.message}`;
    return report([], { code: error.code, message, ...(error.hint ? { hint: error.hint } : {}) }, lastProxy);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
