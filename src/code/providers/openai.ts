/**
 * OpenAI's Chat Completions API (`POST {baseUrl}/chat/completions`, `stream: true`), which also
 * speaks for DeepSeek, OpenRouter, vLLM, Ollama's /v1 and `a3s power serve`.
 *
 * Mapping: the system prompt becomes the first message; an assistant turn's tool_use blocks become
 * `tool_calls` with JSON-text arguments; each tool result becomes its own `role: "tool"` message
 * (placed before the user's text, right after the assistant turn that called it). A failed tool's
 * output is prefixed with "Error: " since this API has no error flag.
 *
 * The stream: `data:` chunks whose `choices[0].delta` carries `content`, `reasoning_content`
 * (DeepSeek, vLLM) or `reasoning` (OpenRouter, Ollama), and `tool_calls[]` assembled by `index`
 * (id and name in a call's first chunk, arguments split over many); `finish_reason` ends the choice;
 * with `stream_options.include_usage` a last chunk with `choices: []` carries usage; then
 * `data: [DONE]`. Tool calls are yielded whole once the choice finishes.
 *
 * Usage follows Anthropic's convention so both providers add up the same way: `inputTokens` excludes
 * cached prompt tokens, which are reported in `cacheReadTokens`.
 */
import { randomUUID } from "node:crypto";
import type { ChatRequest, Message, Provider, ProviderEvent, StopReason, Usage } from "../types.ts";
import { DEFAULT_MAX_TOKENS } from "./anthropic.ts";
import type { SseEvent } from "./sse.ts";
import { parseToolInput, toolArgumentsText } from "./tool-input.ts";
import { StreamError, streamWithRetries, type TransportOptions } from "./transport.ts";

export interface OpenAiSettings {
  name: string;
  /** Ends with "/v1" for most servers ("https://api.openai.com/v1", "http://127.0.0.1:11434/v1"). */
  baseUrl: string;
  /** Optional: local servers (Ollama, vLLM, power) take no key. */
  apiKey?: string;
  keyEnv?: string;
  headers?: Record<string, string>;
}

export function createOpenAiProvider(settings: OpenAiSettings, options: TransportOptions = {}): Provider {
  const base = settings.baseUrl.replace(/\/+$/, "");
  const url = `${base}/chat/completions`;
  // OpenAI's reasoning models reject max_tokens; most other servers only know max_tokens.
  const maxTokensField = isOpenAiHost(base) ? "max_completion_tokens" : "max_tokens";
  return {
    name: settings.name,
    stream(request: ChatRequest): AsyncIterable<ProviderEvent> {
      const headers: Record<string, string> = { ...settings.headers };
      if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
      return streamWithRetries(
        { url, headers, body: toOpenAiRequest(request, maxTokensField) },
        {
          provider: settings.name,
          model: request.model,
          ...(settings.keyEnv ? { keyEnv: settings.keyEnv } : {}),
        },
        request.signal,
        options,
        (events) => parseOpenAiStream(events, settings.name),
      );
    },
  };
}

function isOpenAiHost(base: string): boolean {
  try {
    return new URL(base).hostname === "api.openai.com";
  } catch {
    return false;
  }
}

export function toOpenAiRequest(
  request: ChatRequest,
  maxTokensField: "max_tokens" | "max_completion_tokens" = "max_tokens",
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: toOpenAiMessages(request.system, request.messages),
    stream: true,
    stream_options: { include_usage: true },
    [maxTokensField]: request.maxTokens ?? DEFAULT_MAX_TOKENS,
  };
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
    }));
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  return body;
}

export type OpenAiMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: OpenAiToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

interface OpenAiToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export function toOpenAiMessages(system: string, messages: readonly Message[]): OpenAiMessage[] {
  const out: OpenAiMessage[] = system ? [{ role: "system", content: system }] : [];
  for (const message of messages) {
    const text = message.content
      .flatMap((block) => (block.type === "text" && block.text !== "" ? [block.text] : []))
      .join("\n\n");
    if (message.role === "assistant") {
      const calls: OpenAiToolCall[] = message.content.flatMap((block) =>
        block.type === "tool_use"
          ? [
              {
                id: block.id,
                type: "function" as const,
                function: { name: block.name, arguments: toolArgumentsText(block.input) },
              },
            ]
          : [],
      );
      if (text === "" && calls.length === 0) continue;
      out.push(
        calls.length > 0
          ? { role: "assistant", content: text || null, tool_calls: calls }
          : { role: "assistant", content: text },
      );
      continue;
    }
    for (const block of message.content) {
      if (block.type !== "tool_result") continue;
      const content = block.isError ? `Error: ${block.content}` : block.content;
      out.push({ role: "tool", tool_call_id: block.toolUseId, content });
    }
    if (text !== "") out.push({ role: "user", content: text });
  }
  return out;
}

interface PendingCall {
  id: string;
  name: string;
  args: string;
}

/** Turns the SSE events of one response into provider events; `stop` comes last. */
export async function* parseOpenAiStream(
  events: AsyncIterable<SseEvent>,
  provider = "openai",
): AsyncGenerator<ProviderEvent> {
  const calls = new Map<number, PendingCall>();
  let finish: string | undefined;
  let usage: Usage | undefined;
  for await (const sse of events) {
    if (sse.data.trim() === "[DONE]") {
      // Some local servers end with [DONE] alone; it still says the answer is complete.
      finish ??= "stop";
      break;
    }
    const chunk = parseChunk(sse, provider);
    if (chunk.error !== undefined) throw streamError(provider, chunk.error);
    if (chunk.usage) usage = toUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const delta = choice.delta ?? {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === "string" && reasoning !== "") yield { type: "reasoning_delta", text: reasoning };
    if (typeof delta.content === "string" && delta.content !== "")
      yield { type: "text_delta", text: delta.content };
    if (typeof delta.refusal === "string" && delta.refusal !== "")
      yield { type: "text_delta", text: delta.refusal };
    for (const [position, part] of (delta.tool_calls ?? []).entries()) {
      const index = part.index ?? position;
      let call = calls.get(index);
      if (!call) {
        call = { id: part.id || `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`, name: "", args: "" };
        calls.set(index, call);
      }
      const startedBefore = call.name !== "";
      if (part.function?.name && !startedBefore) call.name = part.function.name;
      if (!startedBefore && call.name !== "") yield { type: "tool_call_start", id: call.id, name: call.name };
      call.args += part.function?.arguments ?? "";
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  if (finish === undefined) {
    throw new StreamError("network", `${provider}: the stream ended without a finish_reason`, true);
  }
  for (const index of [...calls.keys()].sort((a, b) => a - b)) {
    const call = calls.get(index)!;
    yield { type: "tool_call", id: call.id, name: call.name, input: parseToolInput(call.args) };
  }
  if (usage) yield { type: "usage", usage };
  yield { type: "stop", reason: mapFinishReason(finish, calls.size > 0) };
}

/** Some servers (older Ollama) finish a tool-calling turn with "stop": the calls decide. */
export function mapFinishReason(reason: string, hasToolCalls: boolean): StopReason {
  if (reason === "length") return "max_tokens";
  if (reason === "content_filter") return "refusal";
  if (hasToolCalls || reason === "tool_calls" || reason === "function_call") return "tool_use";
  return "end_turn";
}

interface WireChunk {
  choices?: {
    delta?: {
      content?: string | null;
      /** OpenAI's structured-output refusal text, shown like an answer. */
      refusal?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
    };
    finish_reason?: string | null;
  }[];
  usage?: WireUsage | null;
  error?: { message?: string; type?: string; code?: unknown } | string;
}

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  /** DeepSeek's name for cached prompt tokens. */
  prompt_cache_hit_tokens?: number;
}

function toUsage(wire: WireUsage): Usage {
  const prompt = wire.prompt_tokens ?? 0;
  const cached = wire.prompt_tokens_details?.cached_tokens ?? wire.prompt_cache_hit_tokens ?? 0;
  const usage: Usage = {
    inputTokens: Math.max(0, prompt - cached),
    outputTokens: wire.completion_tokens ?? 0,
  };
  if (cached > 0) usage.cacheReadTokens = cached;
  return usage;
}

function parseChunk(sse: SseEvent, provider: string): WireChunk {
  try {
    return JSON.parse(sse.data) as WireChunk;
  } catch {
    throw new StreamError("network", `${provider} sent a malformed chunk: ${sse.data.slice(0, 200)}`, false);
  }
}

/** Errors in a 200 stream are the server failing mid-way (overload, upstream provider error). */
function streamError(provider: string, error: NonNullable<WireChunk["error"]>): StreamError {
  const message = typeof error === "string" ? error : (error.message ?? JSON.stringify(error));
  const type = typeof error === "string" ? undefined : error.type;
  const invalid = type === "invalid_request_error";
  return new StreamError(
    invalid ? "usage" : "network",
    `${provider} reported an error mid-stream: ${message}`,
    !invalid,
  );
}
