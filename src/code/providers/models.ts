/**
 * What well-known models cost and how much context they take, for the status line, /cost and
 * compaction. Config (`code.prices`, `code.contextWindows`) overrides the table per model id.
 *
 * Figures are USD per million tokens from the providers' pricing pages as published in mid-2026
 * (Anthropic: docs.anthropic.com pricing, 5-minute cache writes; OpenAI: platform pricing, cached
 * input; DeepSeek: api-docs.deepseek.com, cache hit / miss). Prices change: when they do, the
 * config override is the fix a user can make without a release.
 */
import type { Usage } from "../types.ts";

export interface ModelPrice {
  input: number;
  output: number;
  /** Cached prompt tokens read back; the input price when unknown. */
  cacheRead?: number;
  /** Prompt tokens written to the cache (Anthropic); the input price when unknown. */
  cacheWrite?: number;
}

interface ModelInfo extends ModelPrice {
  contextWindow: number;
}

// Checked 2026-06 against the sources named above.
const CLAUDE_OPUS_4 = { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75, contextWindow: 200_000 };
const CLAUDE_OPUS_45 = { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25, contextWindow: 200_000 };
const CLAUDE_SONNET = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, contextWindow: 200_000 };
const GPT_5 = { input: 1.25, output: 10, cacheRead: 0.125, contextWindow: 272_000 };
const DEEPSEEK = { input: 0.28, output: 0.42, cacheRead: 0.028, contextWindow: 128_000 };

/** Keys are normalised ids (see normalise()); the longest key that prefixes a model id wins. */
const TABLE: Record<string, ModelInfo> = {
  "claude-opus-4": CLAUDE_OPUS_4,
  "claude-opus-4-1": CLAUDE_OPUS_4,
  "claude-opus-4-5": CLAUDE_OPUS_45,
  "claude-opus-4-6": CLAUDE_OPUS_45,
  "claude-sonnet-4": CLAUDE_SONNET,
  "claude-sonnet-4-5": CLAUDE_SONNET,
  "claude-sonnet-4-6": CLAUDE_SONNET,
  "claude-3-7-sonnet": CLAUDE_SONNET,
  "claude-haiku-4-5": { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25, contextWindow: 200_000 },
  "claude-3-5-haiku": { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1, contextWindow: 200_000 },
  "gpt-5": GPT_5,
  "gpt-5-1": GPT_5,
  "gpt-5-pro": { input: 15, output: 120, contextWindow: 272_000 },
  "gpt-5-mini": { input: 0.25, output: 2, cacheRead: 0.025, contextWindow: 272_000 },
  "gpt-5-nano": { input: 0.05, output: 0.4, cacheRead: 0.005, contextWindow: 272_000 },
  "gpt-5-4": { input: 2.5, output: 15, cacheRead: 0.25, contextWindow: 1_000_000 },
  "gpt-5-4-mini": { input: 0.75, output: 4.5, cacheRead: 0.075, contextWindow: 1_000_000 },
  "gpt-5-4-nano": { input: 0.2, output: 1.25, cacheRead: 0.02, contextWindow: 1_000_000 },
  "gpt-5-5": { input: 5, output: 30, cacheRead: 0.5, contextWindow: 1_000_000 },
  "gpt-4-1": { input: 2, output: 8, cacheRead: 0.5, contextWindow: 1_047_576 },
  "gpt-4-1-mini": { input: 0.4, output: 1.6, cacheRead: 0.1, contextWindow: 1_047_576 },
  "gpt-4-1-nano": { input: 0.1, output: 0.4, cacheRead: 0.025, contextWindow: 1_047_576 },
  "gpt-4o": { input: 2.5, output: 10, cacheRead: 1.25, contextWindow: 128_000 },
  "gpt-4o-mini": { input: 0.15, output: 0.6, cacheRead: 0.075, contextWindow: 128_000 },
  o1: { input: 15, output: 60, cacheRead: 7.5, contextWindow: 200_000 },
  o3: { input: 2, output: 8, cacheRead: 0.5, contextWindow: 200_000 },
  "o3-pro": { input: 20, output: 80, contextWindow: 200_000 },
  "o3-mini": { input: 1.1, output: 4.4, cacheRead: 0.55, contextWindow: 200_000 },
  "o4-mini": { input: 1.1, output: 4.4, cacheRead: 0.275, contextWindow: 200_000 },
  "deepseek-chat": DEEPSEEK,
  "deepseek-reasoner": DEEPSEEK,
};

export const DEFAULT_CONTEXT_WINDOW = 128_000;
/** llama.cpp's and Ollama's usual default context; a local model's real window is whatever it was loaded with. */
export const LOCAL_CONTEXT_WINDOW = 8192;
const LOCAL_PROVIDERS = new Set(["local", "ollama"]);

/** The `code.prices` / `code.contextWindows` parts of the config, keyed by model id or "provider/model". */
export interface ModelOverrides {
  prices?: Record<string, ModelPrice>;
  contextWindows?: Record<string, number>;
}

/** Accepts "provider/model", an OpenRouter-style "vendor/model" id, or a bare model id. */
export function priceOf(model: string, overrides: ModelOverrides = {}): ModelPrice | undefined {
  const configured = lookup(overrides.prices, model);
  if (configured) return configured;
  if (isLocal(model)) return { input: 0, output: 0 };
  const info = builtIn(model);
  if (!info) return undefined;
  const { contextWindow: _, ...price } = info;
  return price;
}

/** USD for one response's usage; 0 when the model's price is unknown. */
export function costOf(model: string, usage: Usage, overrides: ModelOverrides = {}): number {
  const price = priceOf(model, overrides);
  if (!price) return 0;
  const dollars =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    (usage.cacheReadTokens ?? 0) * (price.cacheRead ?? price.input) +
    (usage.cacheWriteTokens ?? 0) * (price.cacheWrite ?? price.input);
  return dollars / 1_000_000;
}

export function contextWindowOf(model: string, overrides: ModelOverrides = {}): number {
  const configured = lookup(overrides.contextWindows, model);
  if (configured !== undefined) return configured;
  if (isLocal(model)) return LOCAL_CONTEXT_WINDOW;
  return builtIn(model)?.contextWindow ?? DEFAULT_CONTEXT_WINDOW;
}

/** Model ids the table knows whose key starts with one of `prefixes` ("claude-", "gpt-"), for /model. */
export function knownModels(prefixes: readonly string[]): string[] {
  return Object.keys(TABLE).filter((id) => prefixes.some((prefix) => id.startsWith(prefix)));
}

function isLocal(model: string): boolean {
  const slash = model.indexOf("/");
  return slash > 0 && LOCAL_PROVIDERS.has(model.slice(0, slash));
}

/** Exact key first ("ollama/qwen3:8b" or "qwen3:8b"), then the table's normalised matching. */
function lookup<T>(table: Record<string, T> | undefined, model: string): T | undefined {
  if (!table) return undefined;
  if (table[model] !== undefined) return table[model];
  const bare = model.slice(model.indexOf("/") + 1);
  if (table[bare] !== undefined) return table[bare];
  const id = normalise(model);
  for (const [key, value] of Object.entries(table)) if (normalise(key) === id) return value;
  return undefined;
}

function builtIn(model: string): ModelInfo | undefined {
  const id = normalise(model);
  let best: string | undefined;
  for (const key of Object.keys(TABLE)) {
    const matches = id === key || id.startsWith(`${key}-`);
    if (matches && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : TABLE[best];
}

/**
 * "openrouter/anthropic/claude-sonnet-4.5" → "claude-sonnet-4-5"; "gpt-4.1-2025-04-14" →
 * "gpt-4-1-2025-04-14" (dated snapshots then match their family by prefix).
 */
function normalise(model: string): string {
  const last = model.slice(model.lastIndexOf("/") + 1).toLowerCase();
  return last.replace(/(\d)\.(\d)/g, "$1-$2").replace(/:.*$/, "");
}
