/**
 * Ollama's runtime options (api/types.go `Options`) and `keep_alive` durations. A model's params
 * layer gives its defaults, a request's `options` override them; unknown keys are ignored with a
 * warning, as Ollama does, and a value of the wrong type is the caller's error.
 */
import { A3sError } from "../../core/errors.ts";

export interface SamplingOptions {
  temperature: number;
  top_k: number;
  top_p: number;
  min_p: number;
  typical_p: number;
  repeat_penalty: number;
  repeat_last_n: number;
  presence_penalty: number;
  frequency_penalty: number;
  /** -1: a random seed per request. */
  seed: number;
  /** -1: until the end of generation or the context is full. */
  num_predict: number;
  stop: string[];
}

export interface LoadOptions {
  num_ctx: number;
  num_batch: number;
  num_thread: number;
}

export type ModelOptions = SamplingOptions & LoadOptions;

/** Ollama's defaults (num_thread 0 means "a3s decides": power.threads or the physical cores). */
export const DEFAULT_OPTIONS: ModelOptions = {
  temperature: 0.8,
  top_k: 40,
  top_p: 0.9,
  min_p: 0,
  typical_p: 1,
  repeat_penalty: 1.1,
  repeat_last_n: 64,
  presence_penalty: 0,
  frequency_penalty: 0,
  seed: -1,
  num_predict: -1,
  stop: [],
  num_ctx: 4096,
  num_batch: 512,
  num_thread: 0,
};

const INTEGER_KEYS = new Set([
  "top_k",
  "repeat_last_n",
  "seed",
  "num_predict",
  "num_ctx",
  "num_batch",
  "num_thread",
]);
/** Options Ollama accepts that llama.cpp's CPU path has no use for: accepted and ignored. */
const IGNORED_KEYS = new Set([
  "num_keep",
  "num_gpu",
  "main_gpu",
  "use_mmap",
  "use_mlock",
  "numa",
  "low_vram",
]);

export interface MergeResult {
  options: ModelOptions;
  /** Keys Ollama would warn about ("invalid option provided"). */
  unknown: string[];
}

/** Layers option sources, later ones winning: defaults, the model's params, the request's options. */
export function mergeOptions(...sources: Array<Record<string, unknown> | undefined>): MergeResult {
  const options: ModelOptions = { ...DEFAULT_OPTIONS, stop: [] };
  const unknown: string[] = [];
  const target = options as unknown as Record<string, unknown>;
  for (const source of sources) {
    for (const [key, value] of Object.entries(source ?? {})) {
      if (value === null || value === undefined) continue;
      if (IGNORED_KEYS.has(key)) continue;
      if (!Object.hasOwn(DEFAULT_OPTIONS, key)) {
        unknown.push(key);
        continue;
      }
      target[key] = key === "stop" ? stopList(value) : numberOption(key, value);
    }
  }
  return { options, unknown };
}

function stopList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item) => typeof item === "string")) {
    throw new A3sError("usage", "option stop must be a string or a list of strings");
  }
  return list.filter((item) => item !== "");
}

function numberOption(key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new A3sError("usage", `option ${key} must be a number, got ${JSON.stringify(value)}`);
  }
  if (INTEGER_KEYS.has(key) && !Number.isInteger(value)) {
    throw new A3sError("usage", `option ${key} must be an integer, got ${value}`);
  }
  return value;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * keep_alive as Ollama reads it: a Go duration ("5m", "1h30m", "-1s"), or a number of seconds.
 * Returns milliseconds; `Infinity` for a negative value (keep the model loaded), 0 to unload now.
 */
export function parseKeepAlive(value: unknown): number {
  if (typeof value === "number") {
    if (Number.isNaN(value)) throw new A3sError("usage", "keep_alive must be a number of seconds, got NaN");
    return keepAliveMs(value * 1000);
  }
  if (typeof value !== "string") {
    throw new A3sError("usage", `keep_alive must be a duration or a number, got ${JSON.stringify(value)}`);
  }
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return keepAliveMs(Number(text) * 1000);
  const match = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match) throw new A3sError("usage", `keep_alive: invalid duration ${JSON.stringify(value)}`);
  let ms = 0;
  for (const part of match[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(part[1]) * UNIT_MS[part[2]!]!;
  }
  return keepAliveMs(match[1] === "-" ? -ms : ms);
}

function keepAliveMs(ms: number): number {
  return ms < 0 ? Number.POSITIVE_INFINITY : Math.round(ms);
}
