import { describe, expect, test } from "bun:test";
import { contextWindowOf, costOf, priceOf } from "./models.ts";

describe("priceOf", () => {
  test("dated snapshots, provider prefixes and dotted versions find their family", () => {
    expect(priceOf("claude-sonnet-4-5-20250929")).toMatchObject({ input: 3, output: 15 });
    expect(priceOf("anthropic/claude-sonnet-4-5")).toMatchObject({ input: 3, output: 15 });
    expect(priceOf("openrouter/anthropic/claude-sonnet-4.5")).toMatchObject({ input: 3, output: 15 });
    expect(priceOf("claude-opus-4-20250514")).toMatchObject({ input: 15, output: 75 });
    expect(priceOf("claude-opus-4-5-20251101")).toMatchObject({ input: 5, output: 25 });
    expect(priceOf("openai/gpt-4.1-mini-2025-04-14")).toMatchObject({ input: 0.4, output: 1.6 });
    expect(priceOf("gpt-4o-2024-08-06")).toMatchObject({ input: 2.5 });
    expect(priceOf("gpt-4o-mini")).toMatchObject({ input: 0.15 });
    expect(priceOf("deepseek/deepseek-reasoner")).toMatchObject({
      input: 0.28,
      output: 0.42,
      cacheRead: 0.028,
    });
  });

  test("unknown models have no price; local ones cost nothing; config overrides the table", () => {
    expect(priceOf("mystery-model")).toBeUndefined();
    expect(priceOf("gpt-4oo")).toBeUndefined(); // a family matches up to a "-" only
    expect(priceOf("ollama/qwen3:8b")).toEqual({ input: 0, output: 0 });
    const prices = {
      "claude-sonnet-4-5": { input: 1, output: 2 },
      "vllm/qwen3": { input: 0.1, output: 0.2 },
    };
    expect(priceOf("anthropic/claude-sonnet-4-5", { prices })).toEqual({ input: 1, output: 2 });
    expect(priceOf("vllm/qwen3", { prices })).toEqual({ input: 0.1, output: 0.2 });
  });
});

describe("costOf", () => {
  test("input, output, cache reads and writes at their own rates", () => {
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cacheReadTokens: 2_000_000,
      cacheWriteTokens: 400_000,
    };
    // 3 + 1.5 + 0.6 + 1.5
    expect(costOf("anthropic/claude-sonnet-4-5", usage)).toBeCloseTo(6.6, 10);
  });

  test("cache rates default to the input price when the price has none; unknown models cost 0", () => {
    const usage = { inputTokens: 500_000, outputTokens: 0, cacheReadTokens: 500_000 };
    expect(costOf("x/custom", usage, { prices: { custom: { input: 2, output: 4 } } })).toBeCloseTo(2, 10);
    expect(costOf("mystery", usage)).toBe(0);
    const cached = { custom: { input: 2, output: 4, cacheRead: 0.2 } };
    expect(costOf("x/custom", usage, { prices: cached })).toBeCloseTo(1.1, 10);
  });
});

describe("contextWindowOf", () => {
  test("the table, a 128k default, 8192 for local models, config first", () => {
    expect(contextWindowOf("anthropic/claude-haiku-4-5")).toBe(200_000);
    expect(contextWindowOf("openai/gpt-4.1")).toBe(1_047_576);
    expect(contextWindowOf("vllm/some-model")).toBe(128_000);
    expect(contextWindowOf("local/llama3.2:3b")).toBe(8192);
    expect(contextWindowOf("ollama/qwen3:8b", { contextWindows: { "qwen3:8b": 40_960 } })).toBe(40_960);
    expect(contextWindowOf("openai/gpt-4.1", { contextWindows: { "openai/gpt-4.1": 100_000 } })).toBe(
      100_000,
    );
  });
});
