/**
 * The EngineHttp handed to each engine: every request goes through undici (a proxy's dispatcher or a
 * direct one), carries the engine's user agent, decompresses the body, follows redirects itself so a
 * redirect to a bot check is seen, and retries once on a network error through the next proxy.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import type { Dispatcher } from "undici/index.js";
import { A3sError, isA3sError } from "../core/errors.ts";
import { httpRequest } from "../core/http.ts";
import { logger } from "../core/log.ts";
import { blockedError } from "./html.ts";
import type { ProxyEntry, ProxyPool } from "./proxy-pool.ts";
import type { EngineHttp, FetchedPage, HttpRequestSpec } from "./types.ts";

const log = logger("search");

const MAX_REDIRECTS = 5;
/** Result pages are a few hundred kB; anything far beyond is not a result page. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

let directDispatcher: Promise<Dispatcher> | undefined;

/**
 * One keep-alive pool for engines reached directly, without the redirect interceptor core/http adds
 * (a redirect to a CAPTCHA must be seen). HTTP(S)_PROXY from the environment still applies.
 */
export function direct(env: NodeJS.ProcessEnv): Promise<Dispatcher> {
  directDispatcher ??= (async () => {
    const { Agent, EnvHttpProxyAgent } = await import("undici/index.js");
    const proxyFor = (name: string) => env[name] ?? env[name.toLowerCase()];
    const httpProxy = proxyFor("HTTP_PROXY");
    const httpsProxy = proxyFor("HTTPS_PROXY");
    const noProxy = proxyFor("NO_PROXY");
    if (httpProxy || httpsProxy) {
      return new EnvHttpProxyAgent({
        ...(httpProxy ? { httpProxy } : {}),
        ...(httpsProxy ? { httpsProxy } : {}),
        ...(noProxy ? { noProxy } : {}),
      });
    }
    return new Agent({ connections: 8, keepAliveTimeout: 10_000 });
  })();
  return directDispatcher;
}

export interface EngineHttpOptions {
  engine: string;
  userAgent: string;
  /** Headers time allowed per request; the orchestrator's signal bounds the whole engine. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Undefined when this engine goes direct. */
  pool?: ProxyPool;
  env: NodeJS.ProcessEnv;
  /** Engines' Accept-Language, from --lang. */
  lang?: string;
  /** Told which proxy each request goes through, for the engine's report. */
  onProxy?: (url: string) => void;
}

export function engineHttp(options: EngineHttpOptions): EngineHttp {
  return {
    async fetch(url: string, spec: HttpRequestSpec = {}): Promise<FetchedPage> {
      for (let attempt = 0; ; attempt++) {
        const proxy = options.pool?.next();
        if (proxy) options.onProxy?.(proxy.url);
        try {
          const page = await fetchFollowing(url, spec, options, proxy);
          if (proxy) options.pool?.reportSuccess(proxy);
          return page;
        } catch (err) {
          if (options.signal.aborted) throw err;
          // Only transport failures (those carry the undici cause) are worth a retry; HTTP statuses are not.
          const network = isA3sError(err) && err.code === "network" && err.cause !== undefined;
          if (proxy && network) options.pool?.reportFailure(proxy);
          if (attempt === 0 && network) {
            log.debug(`${options.engine}: retrying after ${(err as Error).message}`);
            continue;
          }
          throw err;
        }
      }
    },
  };
}

async function fetchFollowing(
  url: string,
  spec: HttpRequestSpec,
  options: EngineHttpOptions,
  proxy: ProxyEntry | undefined,
): Promise<FetchedPage> {
  const dispatcher = proxy && options.pool ? await options.pool.dispatcher(proxy) : await direct(options.env);
  let target = url;
  let method = spec.method ?? (spec.form || spec.json !== undefined ? "POST" : "GET");
  let body: string | null = null;
  const headers: Record<string, string> = {
    "user-agent": options.userAgent,
    accept: "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    "accept-encoding": "gzip, deflate, br",
    ...(options.lang ? { "accept-language": `${options.lang},en;q=0.5` } : {}),
  };
  if (spec.form) {
    body = new URLSearchParams(spec.form).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  } else if (spec.json !== undefined) {
    body = JSON.stringify(spec.json);
    headers["content-type"] = "application/json";
  }
  Object.assign(headers, lowerKeys(spec.headers ?? {}));
  for (let hop = 0; ; hop++) {
    const response = await httpRequest(target, {
      method,
      headers,
      body,
      dispatcher,
      retries: 0,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    const location = headerOf(response.headers, "location");
    if (response.status >= 300 && response.status < 400 && location !== undefined) {
      await response.body.dump();
      const next = new URL(location, target).href;
      if (spec.blockedRedirect?.test(next))
        throw blockedError(options.engine, `redirect to ${new URL(next).host}`);
      if (hop >= MAX_REDIRECTS) throw new A3sError("network", `${options.engine}: too many redirects`);
      target = next;
      // 303 (and, as browsers do, 301/302 after a POST) turn into a GET without a body.
      if (response.status === 303 || method === "POST") {
        method = "GET";
        body = null;
        delete headers["content-type"];
      }
      continue;
    }
    const raw = Buffer.from(await response.body.arrayBuffer());
    if (raw.length > MAX_BODY_BYTES) throw new A3sError("network", `${options.engine}: response too large`);
    const text = decode(raw, headerOf(response.headers, "content-encoding"));
    return { status: response.status, headers: response.headers, url: target, text };
  }
}

function decode(raw: Buffer, encoding: string | undefined): string {
  const kind = encoding?.trim().toLowerCase();
  let bytes: Buffer = raw;
  try {
    if (kind === "gzip" || kind === "x-gzip") bytes = gunzipSync(raw);
    else if (kind === "br") bytes = brotliDecompressSync(raw);
    else if (kind === "deflate") {
      // Servers disagree on whether "deflate" has the zlib wrapper; accept both.
      try {
        bytes = inflateSync(raw);
      } catch {
        bytes = inflateRawSync(raw);
      }
    }
  } catch (err) {
    throw new A3sError("integrity", `cannot decompress a ${kind} response`, { cause: err });
  }
  return new TextDecoder("utf-8").decode(bytes);
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
