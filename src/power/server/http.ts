/**
 * HTTP plumbing shared by the Ollama and OpenAI routes: JSON bodies validated with zod, each API's
 * error shape and status codes, and streamed responses (NDJSON, SSE) that abort generation when the
 * client goes away.
 */
import type { z } from "zod";
import { A3sError, type ErrorCode, isA3sError } from "../../core/errors.ts";

const STATUS: Partial<Record<ErrorCode, number>> = {
  usage: 400,
  not_found: 404,
  conflict: 409,
  permission: 403,
  integrity: 400,
  network: 502,
  busy: 503,
  interrupted: 499,
};

export function statusOf(err: unknown): number {
  return isA3sError(err) ? (STATUS[err.code] ?? 500) : 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Ollama's error body: `{"error": "…"}`. */
export function ollamaError(err: unknown): Response {
  return json({ error: messageOf(err) }, statusOf(err));
}

/**
 * OpenAI's error object, with the type its clients map to exception classes. It also goes inside a
 * stream that fails after the headers, where the type is all a client has to tell a bad request
 * (do not send it again) from a server failure (retry).
 */
export function openaiErrorBody(err: unknown) {
  const status = statusOf(err);
  const type =
    status === 404
      ? "not_found_error"
      : status === 503
        ? "server_error"
        : status < 500
          ? "invalid_request_error"
          : "api_error";
  const code = status === 404 && /model/.test(messageOf(err)) ? "model_not_found" : null;
  return { error: { message: messageOf(err), type, param: null, code } };
}

export function openaiError(err: unknown): Response {
  return json(openaiErrorBody(err), statusOf(err));
}

export async function readBody<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  let value: unknown;
  const text = await request.text();
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new A3sError("usage", "invalid JSON in the request body");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new A3sError("usage", `${where}${issue?.message ?? "invalid request"}`);
  }
  return parsed.data;
}

export interface StreamWriter {
  write(text: string): void;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
}

/**
 * A streamed response: `produce` writes chunks as they come; its failure after the headers went out
 * is reported in-band with `onError`'s chunk, since the status can no longer change.
 */
export function streamed(
  request: Request,
  contentType: string,
  produce: (writer: StreamWriter) => Promise<void>,
  onError: (err: unknown) => string,
): Response {
  const abort = new AbortController();
  request.signal.addEventListener("abort", () => abort.abort(), { once: true });
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const writer: StreamWriter = {
        signal: abort.signal,
        write(text) {
          if (!abort.signal.aborted) controller.enqueue(encoder.encode(text));
        },
      };
      try {
        await produce(writer);
      } catch (err) {
        if (!abort.signal.aborted) writer.write(onError(err));
      }
      if (!abort.signal.aborted) controller.close();
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(body, {
    headers: { "content-type": contentType, "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}
