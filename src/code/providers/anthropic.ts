/**
 * Anthropic's Messages API (`POST /v1/messages`, `stream: true`).
 *
 * Our messages already have Anthropic's shape (tool results travel in user messages), so mapping is
 * mostly renaming. Prompt caching is switched on with three `cache_control` breakpoints — the last
 * tool, the system prompt and the newest message — so each round of an agent loop reads the
 * conversation so far from the cache instead of paying for it again.
 *
 * The stream: message_start (input usage) → per content block: content_block_start (text, tool_use,
 * thinking), content_block_delta (text_delta, input_json_delta, thinking_delta, signature_delta),
 * content_block_stop → message_delta (stop_reason, cumulative usage) → message_stop; `ping` at any
 * point, `error` events mid-stream. Unknown events and block types are ignored, as Anthropic's
 * versioning policy asks of clients.
 */
import type {
  ChatRequest,
  ContentBlock,
  Message,
  Provider,
  ProviderEvent,
  StopReason,
  Usage,
} from "../types.ts";
import type { SseEvent } from "./sse.ts";
import { parseToolInput } from "./tool-input.ts";
import { StreamError, streamWithRetries, type TransportOptions } from "./transport.ts";

export const ANTHROPIC_VERSION = "2023-06-01";
export const DEFAULT_MAX_TOKENS = 8192;

export interface AnthropicSettings {
  /** The provider's name in config and messages ("anthropic", "claude-gateway"). */
  name: string;
  /** "https://api.anthropic.com" (a trailing "/v1" is accepted too). */
  baseUrl: string;
  apiKey?: string;
  /** Sent as `Authorization: Bearer` (ANTHROPIC_AUTH_TOKEN, for gateways in front of the API). */
  authToken?: string;
  /** The variable the key came from, named in the hint of a 401/403. */
  keyEnv?: string;
  headers?: Record<string, string>;
}

export function createAnthropicProvider(
  settings: AnthropicSettings,
  options: TransportOptions = {},
): Provider {
  const url = messagesUrl(settings.baseUrl);
  return {
    name: settings.name,
    stream(request: ChatRequest): AsyncIterable<ProviderEvent> {
      const headers: Record<string, string> = { "anthropic-version": ANTHROPIC_VERSION, ...settings.headers };
      if (settings.apiKey) headers["x-api-key"] = settings.apiKey;
      if (settings.authToken) headers.authorization = `Bearer ${settings.authToken}`;
      return streamWithRetries(
        { url, headers, body: toAnthropicRequest(request) },
        {
          provider: settings.name,
          model: request.model,
          ...(settings.keyEnv ? { keyEnv: settings.keyEnv } : {}),
        },
        request.signal,
        options,
        (events) => parseAnthropicStream(events, settings.name),
      );
    },
  };
}

function messagesUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  return base.endsWith("/v1") ? `${base}/messages` : `${base}/v1/messages`;
}

const EPHEMERAL = { type: "ephemeral" } as const;

/** The request body for one streamed response. */
export function toAnthropicRequest(request: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages: toAnthropicMessages(request.messages),
    stream: true,
  };
  if (request.system) body.system = [{ type: "text", text: request.system, cache_control: EPHEMERAL }];
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool, i) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.inputSchema,
      ...(i === request.tools.length - 1 ? { cache_control: EPHEMERAL } : {}),
    }));
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  return body;
}

type WireBlock = Record<string, unknown>;

export function toAnthropicMessages(messages: readonly Message[]): { role: string; content: WireBlock[] }[] {
  const out: { role: string; content: WireBlock[] }[] = [];
  for (const message of messages) {
    const blocks = message.content.flatMap(toWireBlock);
    // The API wants tool results ahead of any text in the same user message.
    if (message.role === "user") blocks.sort((a, b) => rank(a) - rank(b));
    // Empty text blocks and messages are rejected (an interrupted turn can leave one behind).
    if (blocks.length > 0) out.push({ role: message.role, content: blocks });
  }
  const lastBlocks = out.at(-1)?.content;
  const lastBlock = lastBlocks?.at(-1);
  if (lastBlocks && lastBlock) lastBlocks[lastBlocks.length - 1] = { ...lastBlock, cache_control: EPHEMERAL };
  return out;
}

function rank(block: WireBlock): number {
  return block.type === "tool_result" ? 0 : 1;
}

function toWireBlock(block: ContentBlock): WireBlock[] {
  switch (block.type) {
    case "text":
      return block.text.trim() === "" ? [] : [{ type: "text", text: block.text }];
    case "tool_use":
      return [{ type: "tool_use", id: block.id, name: block.name, input: block.input }];
    case "tool_result":
      return [
        {
          type: "tool_result",
          tool_use_id: block.toolUseId,
          ...(block.content !== "" ? { content: block.content } : {}),
          ...(block.isError ? { is_error: true } : {}),
        },
      ];
  }
}

interface ToolBlock {
  id: string;
  name: string;
  json: string;
  startInput: Record<string, unknown> | undefined;
}

/** Turns the SSE events of one response into provider events; `stop` comes last. */
export async function* parseAnthropicStream(
  events: AsyncIterable<SseEvent>,
  provider = "anthropic",
): AsyncGenerator<ProviderEvent> {
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let sawUsage = false;
  let stopReason: StopReason = "end_turn";
  const tools = new Map<number, ToolBlock>();
  for await (const sse of events) {
    const data = parseData(sse, provider);
    switch (data.type ?? sse.event) {
      case "message_start":
        sawUsage = applyUsage(usage, data.message?.usage) || sawUsage;
        break;
      case "content_block_start": {
        const block = data.content_block ?? {};
        const index = data.index ?? 0;
        if (block.type === "tool_use") {
          tools.set(index, { id: block.id ?? "", name: block.name ?? "", json: "", startInput: block.input });
          yield { type: "tool_call_start", id: block.id ?? "", name: block.name ?? "" };
        } else if (block.type === "text" && block.text) {
          yield { type: "text_delta", text: block.text };
        } else if (block.type === "thinking" && block.thinking) {
          yield { type: "reasoning_delta", text: block.thinking };
        }
        break;
      }
      case "content_block_delta": {
        const delta = data.delta ?? {};
        if (delta.type === "text_delta" && delta.text) yield { type: "text_delta", text: delta.text };
        else if (delta.type === "thinking_delta" && delta.thinking) {
          yield { type: "reasoning_delta", text: delta.thinking };
        } else if (delta.type === "input_json_delta") {
          const tool = tools.get(data.index ?? 0);
          if (tool) tool.json += delta.partial_json ?? "";
        }
        break;
      }
      case "content_block_stop": {
        const index = data.index ?? 0;
        const tool = tools.get(index);
        if (tool) {
          tools.delete(index);
          yield toolCall(tool);
        }
        break;
      }
      case "message_delta":
        if (data.delta?.stop_reason) stopReason = mapStopReason(data.delta.stop_reason);
        sawUsage = applyUsage(usage, data.usage) || sawUsage;
        break;
      case "message_stop":
        // A block left open (a truncated stream that still stopped) is delivered rather than lost.
        for (const tool of tools.values()) yield toolCall(tool);
        if (sawUsage) yield { type: "usage", usage };
        yield { type: "stop", reason: stopReason };
        return;
      case "error":
        throw streamError(provider, data.error);
    }
  }
  throw new StreamError("network", `${provider}: the stream ended before message_stop`, true);
}

function toolCall(tool: ToolBlock): ProviderEvent {
  const input = tool.json !== "" ? parseToolInput(tool.json) : (tool.startInput ?? {});
  return { type: "tool_call", id: tool.id, name: tool.name, input };
}

interface WireEvent {
  type?: string;
  index?: number;
  message?: { usage?: WireUsage };
  content_block?: {
    type?: string;
    id?: string;
    name?: string;
    input?: Record<string, unknown>;
    text?: string;
    thinking?: string;
  };
  delta?: {
    type?: string;
    text?: string;
    thinking?: string;
    partial_json?: string;
    stop_reason?: string | null;
  };
  usage?: WireUsage;
  error?: { type?: string; message?: string };
}

interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

function parseData(sse: SseEvent, provider: string): WireEvent {
  try {
    return JSON.parse(sse.data) as WireEvent;
  } catch {
    throw new StreamError(
      "network",
      `${provider} sent a malformed ${sse.event} event: ${sse.data.slice(0, 200)}`,
      false,
    );
  }
}

/** message_delta's usage is cumulative, so later numbers replace earlier ones. */
function applyUsage(usage: Usage, wire: WireUsage | undefined): boolean {
  if (!wire) return false;
  if (typeof wire.input_tokens === "number") usage.inputTokens = wire.input_tokens;
  if (typeof wire.output_tokens === "number") usage.outputTokens = wire.output_tokens;
  if (typeof wire.cache_read_input_tokens === "number") usage.cacheReadTokens = wire.cache_read_input_tokens;
  if (typeof wire.cache_creation_input_tokens === "number") {
    usage.cacheWriteTokens = wire.cache_creation_input_tokens;
  }
  return true;
}

export function mapStopReason(reason: string): StopReason {
  switch (reason) {
    case "tool_use":
    case "max_tokens":
    case "stop_sequence":
    case "refusal":
      return reason;
    case "model_context_window_exceeded":
      return "max_tokens";
    default:
      // end_turn, and pause_turn (server-side tools, which we do not use)
      return "end_turn";
  }
}

const RETRYABLE_ERRORS = new Set(["overloaded_error", "api_error", "rate_limit_error", "timeout_error"]);

function streamError(provider: string, error: WireEvent["error"]): StreamError {
  const type = error?.type ?? "error";
  const message = `${provider} reported ${type} mid-stream: ${error?.message ?? "no message"}`;
  switch (type) {
    case "invalid_request_error":
    case "request_too_large":
      return new StreamError("usage", message, false);
    case "authentication_error":
    case "permission_error":
      return new StreamError("permission", message, false);
    case "not_found_error":
      return new StreamError("not_found", message, false);
    default:
      return new StreamError("network", message, RETRYABLE_ERRORS.has(type));
  }
}
