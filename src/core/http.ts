/**
 * The HTTP client every subsystem uses (registries, model pulls, LLM providers, search engines), on
 * undici (the real package, loaded by file: see undici.ts).
 */
import type { Dispatcher } from "undici/index.js";
import { A3sError } from "./errors.ts";
import { logger } from "./log.ts";
import { type UndiciParts, undici } from "./undici.ts";

const log = logger("http");

export type HttpBody = string | Uint8Array | NodeJS.ReadableStream | null;

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: HttpBody;
  /** Time allowed for the response headers, and for each gap between body chunks. */
  timeoutMs?: number;
  /** Attempts after the first, for idempotent methods only. */
  retries?: number;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** Statuses returned to the caller instead of being retried (e.g. a 503 the caller handles). */
  noRetryStatuses?: readonly number[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData["body"];
  url: string;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const MAX_BACKOFF_MS = 8_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;

let sharedDispatcher: Dispatcher | undefined;

/**
 * One pooled dispatcher per process: follows redirects (registries send blobs to object storage)
 * and honours HTTP(S)_PROXY / NO_PROXY from the environment it is first created with.
 */
export async function defaultDispatcher(env: NodeJS.ProcessEnv = process.env): Promise<Dispatcher> {
  sharedDispatcher ??= await createDispatcher(env);
  return sharedDispatcher;
}

export async function createDispatcher(env: NodeJS.ProcessEnv): Promise<Dispatcher> {
  const { Agent, EnvHttpProxyAgent, redirect } = await undici();
  const proxyFor = (name: string) => env[name] ?? env[name.toLowerCase()];
  const httpProxy = proxyFor("HTTP_PROXY");
  const httpsProxy = proxyFor("HTTPS_PROXY");
  const noProxy = proxyFor("NO_PROXY");
  const base: Dispatcher =
    httpProxy || httpsProxy
      ? new EnvHttpProxyAgent({
          ...(httpProxy ? { httpProxy } : {}),
          ...(httpsProxy ? { httpsProxy } : {}),
          ...(noProxy ? { noProxy } : {}),
        })
      : new Agent({ connections: 16, keepAliveTimeout: 10_000 });
  return base.compose(redirect({ maxRedirections: 8 }));
}

export async function httpRequest(url: string | URL, options: HttpOptions = {}): Promise<HttpResponse> {
  const method = (options.method ?? "GET").toUpperCase();
  const target = String(url);
  const retries =
    IDEMPOTENT.has(method) && !isStream(options.body) ? (options.retries ?? DEFAULT_RETRIES) : 0;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { request, errors } = await undici();
  const dispatcher = options.dispatcher ?? (await defaultDispatcher());
  for (let attempt = 0; ; attempt++) {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(new URL(target), {
        method: method as Dispatcher.HttpMethod,
        headers: options.headers,
        body: (options.body ?? null) as Dispatcher.DispatchOptions["body"],
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: options.signal,
        dispatcher,
      });
    } catch (err) {
      if (options.signal?.aborted) throw new A3sError("interrupted", "request cancelled", { cause: err });
      if (attempt < retries && isTransient(errors, err)) {
        const delay = backoff(attempt);
        log.debug(`retrying ${method} ${target} in ${delay} ms`, { error: describeError(err) });
        await sleep(delay, options.signal);
        continue;
      }
      throw networkError(errors, target, err);
    }
    const status = response.statusCode;
    if (attempt < retries && RETRYABLE_STATUS.has(status) && !options.noRetryStatuses?.includes(status)) {
      const delay = retryAfter(response.headers["retry-after"]) ?? backoff(attempt);
      await response.body.dump();
      log.debug(`retrying ${method} ${target} after HTTP ${status} in ${delay} ms`);
      await sleep(delay, options.signal);
      continue;
    }
    return { status, headers: response.headers, body: response.body, url: target };
  }
}

/** Reads a whole response body as JSON, with an error naming the URL when it is not JSON. */
export async function readJson<T = unknown>(response: HttpResponse): Promise<T> {
  const text = await response.body.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new A3sError("network", `${response.url} returned invalid JSON (HTTP ${response.status})`);
  }
}

export function headerValue(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function isStream(body: HttpBody | undefined): boolean {
  return body !== null && body !== undefined && typeof body === "object" && "pipe" in body;
}

function isTransient(errors: UndiciParts["errors"], err: unknown): boolean {
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) return true;
  if (err instanceof errors.SocketError || err instanceof errors.ConnectTimeoutError) return true;
  const code = (err as { code?: string }).code;
  return (
    code !== undefined && ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"].includes(code)
  );
}

function networkError(errors: UndiciParts["errors"], url: string, err: unknown): A3sError {
  const host = safeHost(url);
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.ConnectTimeoutError) {
    return new A3sError("network", `${host} did not answer in time`, { cause: err });
  }
  return new A3sError("network", `cannot reach ${host}: ${describeError(err)}`, {
    cause: err,
    hint: "check the address and your network or proxy settings (HTTPS_PROXY, NO_PROXY)",
  });
}

/** An error's message with its system code ("ECONNREFUSED") when the message lacks it. */
export function describeError(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** The host of a URL for messages; the raw text when it does not parse. */
export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Exponential backoff with full jitter: 0.2 s, 0.4 s, 0.8 s … capped, never synchronised between clients. */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, 200 * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After is either seconds or an HTTP date; a value beyond a minute is not worth waiting for. */
export function retryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return undefined;
  const seconds = Number(text);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), 60_000);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new A3sError("interrupted", "request cancelled"));
      },
      { once: true },
    );
  });
}
