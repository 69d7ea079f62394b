/**
 * The HTTP side every provider shares: one streaming POST over undici, retried while nothing has
 * reached the caller yet, with the provider's HTTP errors turned into A3sErrors a user can act on.
 *
 * Retries stop at the first event a protocol parser yields: replaying a half-streamed answer would
 * show the user text twice. A stalled server is reported rather than retried, since waiting the idle
 * timeout again rarely helps and leaves the user staring at nothing for minutes.
 */
import type { Dispatcher } from "undici/index.js";
import { A3sError, type ErrorCode } from "../../core/errors.ts";
import { backoff, defaultDispatcher, describeError, retryAfter, safeHost } from "../../core/http.ts";
import { VERSION } from "../../core/version.ts";
import type { ProviderEvent } from "../types.ts";
import { parseSse, type SseEvent } from "./sse.ts";

export interface TransportOptions {
  /** Attempts in all, the first included; default 4. */
  maxAttempts?: number;
  /** Time allowed for response headers and for each silence between body bytes; default 120 s. */
  idleTimeoutMs?: number;
  /** Defaults to the process-wide pooled dispatcher (honours HTTPS_PROXY / NO_PROXY). */
  dispatcher?: Dispatcher;
}

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Who is being called, for error messages and hints. */
export interface WireTarget {
  provider: string;
  model: string;
  /** The environment variable holding the key, named in the hint of a 401/403. */
  keyEnv?: string;
}

/** An error the server reported inside a 200 stream; `retryable` when sending again may succeed. */
export class StreamError extends A3sError {
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, retryable: boolean) {
    super(code, message);
    this.retryable = retryable;
  }
}

export type ProtocolParser = (events: AsyncIterable<SseEvent>) => AsyncGenerator<ProviderEvent>;

const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504, 529]);
const CONNECTION_ERRORS = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);
export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
const MAX_RETRY_AFTER_MS = 60_000;

type Undici = typeof import("undici/index.js");
let undiciModule: Undici | undefined;

export async function* streamWithRetries(
  wire: WireRequest,
  target: WireTarget,
  signal: AbortSignal | undefined,
  options: TransportOptions,
  parse: ProtocolParser,
): AsyncGenerator<ProviderEvent> {
  undiciModule ??= await import("undici/index.js");
  const { request } = undiciModule;
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const dispatcher = options.dispatcher ?? (await defaultDispatcher());
  const body = JSON.stringify(wire.body);
  const headers = {
    "content-type": "application/json",
    accept: "text/event-stream",
    "user-agent": `a3s/${VERSION}`,
    ...wire.headers,
  };
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= maxAttempts;
    if (signal?.aborted) throw interrupted(target);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(wire.url, {
        method: "POST",
        headers,
        body,
        headersTimeout: idle,
        bodyTimeout: idle,
        signal,
        dispatcher,
      });
    } catch (err) {
      if (signal?.aborted) throw interrupted(target, err);
      if (isTimeout(err)) throw stalled(target, idle, err);
      if (last || !isConnectionError(err)) throw unreachable(wire.url, target, err);
      const delayMs = backoff(attempt - 1);
      yield { type: "retry", attempt, delayMs, reason: `connection failed: ${describeError(err)}` };
      await sleep(delayMs, signal, target);
      continue;
    }

    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      const text = await response.body.text().catch(() => "");
      const message = providerMessage(text);
      if (!last && shouldRetry(status, response.headers)) {
        const delayMs = retryDelay(response.headers) ?? backoff(attempt - 1);
        yield { type: "retry", attempt, delayMs, reason: `HTTP ${status}${message ? `: ${message}` : ""}` };
        await sleep(delayMs, signal, target);
        continue;
      }
      throw httpError(status, message, wire.url, target, attempt);
    }

    let yielded = false;
    try {
      for await (const event of parse(parseSse(response.body))) {
        yielded = true;
        yield event;
      }
      return;
    } catch (err) {
      if (signal?.aborted) throw interrupted(target, err);
      if (isTimeout(err)) throw stalled(target, idle, err);
      const retryable = err instanceof StreamError ? err.retryable : isConnectionError(err);
      if (yielded || last || !retryable) {
        if (err instanceof A3sError) throw err;
        throw new A3sError("network", `${target.provider}: the response broke off: ${describeError(err)}`, {
          cause: err,
        });
      }
      const delayMs = backoff(attempt - 1);
      yield { type: "retry", attempt, delayMs, reason: describeError(err) };
      await sleep(delayMs, signal, target);
    } finally {
      // The caller may stop iterating early: release the socket instead of leaving the body unread.
      if (!response.body.readableEnded) response.body.destroy();
    }
  }
}

/** Anthropic's and OpenAI's SDKs let the server override the status-based decision. */
function shouldRetry(status: number, headers: Dispatcher.ResponseData["headers"]): boolean {
  const hint = first(headers["x-should-retry"]);
  if (hint === "true") return true;
  if (hint === "false") return false;
  return RETRYABLE_STATUS.has(status);
}

/** OpenAI sends `retry-after-ms`; both send `retry-after` (seconds or an HTTP date). */
export function retryDelay(headers: Dispatcher.ResponseData["headers"]): number | undefined {
  const ms = Number(first(headers["retry-after-ms"]));
  if (first(headers["retry-after-ms"]) !== undefined && Number.isFinite(ms) && ms >= 0) {
    return Math.min(ms, MAX_RETRY_AFTER_MS);
  }
  return retryAfter(headers["retry-after"]);
}

/** The message out of Anthropic's, OpenAI's, vLLM's or Ollama's error shapes; else the raw text. */
export function providerMessage(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  try {
    const parsed = JSON.parse(trimmed) as {
      error?: { message?: unknown; type?: unknown } | string;
      message?: unknown;
      detail?: unknown;
    };
    if (typeof parsed.error === "string") return parsed.error;
    if (typeof parsed.error?.message === "string") return parsed.error.message;
    if (typeof parsed.message === "string") return parsed.message;
    if (typeof parsed.detail === "string") return parsed.detail;
  } catch {
    // not JSON: a proxy's HTML page or plain text
  }
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}

function httpError(status: number, message: string, url: string, target: WireTarget, attempts: number) {
  const detail = message ? `: ${message}` : "";
  const { provider } = target;
  if (status === 401 || status === 403) {
    return new A3sError("permission", `${provider} refused the request (HTTP ${status})${detail}`, {
      hint: target.keyEnv
        ? `check the key in ${target.keyEnv}`
        : `this endpoint wants a key: set apiKeyEnv for "${provider}" in code.providers`,
    });
  }
  if (status === 404) {
    return new A3sError("not_found", `${provider}: model "${target.model}" not found (HTTP 404)${detail}`, {
      hint: `check the model name and the provider's base URL (${url})`,
    });
  }
  if (status === 400 || status === 413 || status === 422) {
    return new A3sError("usage", `${provider} rejected the request (HTTP ${status})${detail}`);
  }
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  return new A3sError("network", `${provider} answered HTTP ${status}${tries}${detail}`);
}

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return code !== undefined && CONNECTION_ERRORS.has(code);
}

function interrupted(target: WireTarget, cause?: unknown): A3sError {
  return new A3sError("interrupted", `${target.provider} request cancelled`, { cause });
}

function stalled(target: WireTarget, idleMs: number, cause: unknown): A3sError {
  return new A3sError("network", `${target.provider} sent nothing for ${idleMs / 1000} s`, {
    cause,
    hint: "the server stalled; try again, or check the provider's status page",
  });
}

function unreachable(url: string, target: WireTarget, err: unknown): A3sError {
  return new A3sError(
    "network",
    `cannot reach ${target.provider} at ${safeHost(url)}: ${describeError(err)}`,
    {
      cause: err,
      hint: "check the base URL, your network and proxy settings (HTTPS_PROXY, NO_PROXY)",
    },
  );
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sleep(ms: number, signal: AbortSignal | undefined, target: WireTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(interrupted(target));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted(target));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
