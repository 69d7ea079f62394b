import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../../tests/expect-error.ts";
import { DEFAULT_OPTIONS, mergeOptions, parseKeepAlive } from "./options.ts";

describe("mergeOptions", () => {
  test("with no sources gives Ollama's defaults", () => {
    const { options, unknown } = mergeOptions();
    expect(options).toEqual({
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
    });
    expect(unknown).toEqual([]);
  });

  test("undefined sources are skipped", () => {
    expect(mergeOptions(undefined, undefined).options).toEqual(DEFAULT_OPTIONS);
  });

  test("layers defaults < model params < request, later sources winning key by key", () => {
    const params = { temperature: 0.2, num_ctx: 8192, stop: ["<|eot_id|>"] };
    const request = { temperature: 1.5, top_k: 10 };
    const { options, unknown } = mergeOptions(params, request);
    expect(options.temperature).toBe(1.5);
    expect(options.top_k).toBe(10);
    expect(options.num_ctx).toBe(8192);
    expect(options.stop).toEqual(["<|eot_id|>"]);
    expect(options.top_p).toBe(0.9);
    expect(options.num_batch).toBe(512);
    expect(unknown).toEqual([]);
  });

  test("a request's stop replaces the model's rather than adding to it", () => {
    const { options } = mergeOptions({ stop: ["a", "b"] }, { stop: "c" });
    expect(options.stop).toEqual(["c"]);
  });

  test("null and undefined values leave the lower layer's value", () => {
    const { options } = mergeOptions(
      { temperature: 0.3, stop: ["x"] },
      { temperature: null, stop: undefined },
    );
    expect(options.temperature).toBe(0.3);
    expect(options.stop).toEqual(["x"]);
  });

  test("never mutates DEFAULT_OPTIONS or shares its stop list", () => {
    const first = mergeOptions({ temperature: 0, stop: ["x"] }).options;
    first.stop.push("y");
    expect(DEFAULT_OPTIONS.temperature).toBe(0.8);
    expect(DEFAULT_OPTIONS.stop).toEqual([]);
    const second = mergeOptions().options;
    expect(second.stop).toEqual([]);
    expect(second.stop).not.toBe(DEFAULT_OPTIONS.stop);
  });

  test("stop accepts a single string", () => {
    expect(mergeOptions({ stop: "</s>" }).options.stop).toEqual(["</s>"]);
  });

  test("stop accepts a list, dropping empty strings", () => {
    expect(mergeOptions({ stop: ["User:", "", "\n\n"] }).options.stop).toEqual(["User:", "\n\n"]);
    expect(mergeOptions({ stop: "" }).options.stop).toEqual([]);
    expect(mergeOptions({ stop: [] }).options.stop).toEqual([]);
  });

  test("stop with a non-string is a usage error", () => {
    expectUsage(() => mergeOptions({ stop: 5 }), "option stop must be a string or a list of strings");
    expectUsage(() => mergeOptions({ stop: ["ok", 1] }), /option stop/);
    expectUsage(() => mergeOptions({ stop: [null] }), /option stop/);
    expectUsage(() => mergeOptions({ stop: { a: "b" } }), /option stop/);
  });

  test("integer options take integers, including negative and zero", () => {
    const { options } = mergeOptions({
      seed: 42,
      num_predict: -1,
      top_k: 0,
      num_thread: 8,
      repeat_last_n: -1,
    });
    expect(options.seed).toBe(42);
    expect(options.num_predict).toBe(-1);
    expect(options.top_k).toBe(0);
    expect(options.num_thread).toBe(8);
    expect(options.repeat_last_n).toBe(-1);
  });

  test("integer options accept a float with no fractional part", () => {
    expect(mergeOptions({ num_ctx: 2048.0 }).options.num_ctx).toBe(2048);
  });

  test.each(["top_k", "repeat_last_n", "seed", "num_predict", "num_ctx", "num_batch", "num_thread"])(
    "%s with a fraction is a usage error naming the option",
    (key) => {
      expectUsage(() => mergeOptions({ [key]: 1.5 }), `option ${key} must be an integer, got 1.5`);
    },
  );

  test("float options take fractions and integers", () => {
    const { options } = mergeOptions({
      temperature: 0,
      top_p: 0.95,
      min_p: 0.05,
      typical_p: 0.7,
      repeat_penalty: 1,
      presence_penalty: -0.5,
      frequency_penalty: 2,
    });
    expect(options.temperature).toBe(0);
    expect(options.top_p).toBe(0.95);
    expect(options.min_p).toBe(0.05);
    expect(options.typical_p).toBe(0.7);
    expect(options.repeat_penalty).toBe(1);
    expect(options.presence_penalty).toBe(-0.5);
    expect(options.frequency_penalty).toBe(2);
  });

  test("a value of the wrong type is a usage error naming the option and the value", () => {
    expectUsage(() => mergeOptions({ temperature: "0.7" }), 'option temperature must be a number, got "0.7"');
    expectUsage(() => mergeOptions({ num_ctx: true }), "option num_ctx must be a number, got true");
    expectUsage(() => mergeOptions({ top_k: [40] }), "option top_k must be a number, got [40]");
    expectUsage(() => mergeOptions({ seed: { value: 1 } }), 'option seed must be a number, got {"value":1}');
  });

  test("NaN and infinities are usage errors", () => {
    expectUsage(() => mergeOptions({ temperature: Number.NaN }), /^option temperature must be a number/);
    expectUsage(() => mergeOptions({ top_p: Number.POSITIVE_INFINITY }), /^option top_p must be a number/);
    expectUsage(
      () => mergeOptions({ num_ctx: Number.NEGATIVE_INFINITY }),
      /^option num_ctx must be a number/,
    );
  });

  test("the error comes from the layer that holds the bad value", () => {
    expectUsage(() => mergeOptions({ temperature: 0.5 }, { num_batch: "big" }), /option num_batch/);
  });

  test("options llama.cpp's CPU path ignores are accepted silently, whatever their value", () => {
    const { options, unknown } = mergeOptions({
      num_keep: 4,
      num_gpu: 99,
      main_gpu: 0,
      use_mmap: false,
      use_mlock: true,
      numa: false,
      low_vram: "yes",
    });
    expect(options).toEqual(DEFAULT_OPTIONS);
    expect(unknown).toEqual([]);
    expect(Object.keys(options)).not.toContain("num_gpu");
  });

  test("unknown keys are reported in order, from every layer, and not applied", () => {
    const { options, unknown } = mergeOptions({ mirostat: 2, temperature: 0.1 }, { tfs_z: 1, foo: "bar" });
    expect(unknown).toEqual(["mirostat", "tfs_z", "foo"]);
    expect(options.temperature).toBe(0.1);
    expect(Object.keys(options)).not.toContain("mirostat");
    expect(Object.keys(options)).not.toContain("foo");
  });

  test("an unknown key with a null value is not reported", () => {
    expect(mergeOptions({ mirostat: null }).unknown).toEqual([]);
  });

  test("an unknown key of any type is reported rather than type-checked", () => {
    expect(mergeOptions({ penalize_newline: "yes" }).unknown).toEqual(["penalize_newline"]);
  });
});

describe("parseKeepAlive", () => {
  test("Go durations in milliseconds", () => {
    expect(parseKeepAlive("5m")).toBe(300_000);
    expect(parseKeepAlive("1h30m")).toBe(5_400_000);
    expect(parseKeepAlive("10s")).toBe(10_000);
    expect(parseKeepAlive("1.5h")).toBe(5_400_000);
    expect(parseKeepAlive("250ms")).toBe(250);
    expect(parseKeepAlive("2h45m30s")).toBe(9_930_000);
    expect(parseKeepAlive("1m0.5s")).toBe(60_500);
  });

  test("sub-millisecond units round to whole milliseconds", () => {
    expect(parseKeepAlive("1500us")).toBe(2);
    expect(parseKeepAlive("1400µs")).toBe(1);
    expect(parseKeepAlive("2000000ns")).toBe(2);
    expect(parseKeepAlive("100ns")).toBe(0);
  });

  test("surrounding whitespace is ignored", () => {
    expect(parseKeepAlive("  5m ")).toBe(300_000);
  });

  test("zero unloads at once", () => {
    expect(parseKeepAlive("0")).toBe(0);
    expect(parseKeepAlive(0)).toBe(0);
    expect(parseKeepAlive("0s")).toBe(0);
  });

  test("a number, or a string of digits, is seconds", () => {
    expect(parseKeepAlive(300)).toBe(300_000);
    expect(parseKeepAlive("300")).toBe(300_000);
    expect(parseKeepAlive(1.5)).toBe(1500);
    expect(parseKeepAlive("2.5")).toBe(2500);
  });

  test("a negative value keeps the model loaded forever", () => {
    expect(parseKeepAlive(-1)).toBe(Number.POSITIVE_INFINITY);
    expect(parseKeepAlive("-1")).toBe(Number.POSITIVE_INFINITY);
    expect(parseKeepAlive("-1s")).toBe(Number.POSITIVE_INFINITY);
    expect(parseKeepAlive("-5m")).toBe(Number.POSITIVE_INFINITY);
    expect(parseKeepAlive(-0.001)).toBe(Number.POSITIVE_INFINITY);
  });

  test.each(["", "   ", "forever", "5 m", "5min", "5d", "m", "1h-30m", "--1s", "1e3s", "5m 10s", "-", "ms"])(
    "invalid string %p is a usage error quoting it",
    (text) => {
      expectUsage(() => parseKeepAlive(text), `keep_alive: invalid duration ${JSON.stringify(text)}`);
    },
  );

  test("a value that is neither a string nor a number is a usage error", () => {
    expectUsage(() => parseKeepAlive(true), "keep_alive must be a duration or a number, got true");
    expectUsage(() => parseKeepAlive(null), "keep_alive must be a duration or a number, got null");
    expectUsage(() => parseKeepAlive({ minutes: 5 }), 'got {"minutes":5}');
    expectUsage(() => parseKeepAlive(["5m"]), 'got ["5m"]');
    expectUsage(() => parseKeepAlive(undefined), /^keep_alive must be a duration or a number/);
  });
});

describe("hostile or odd input", () => {
  test("inherited object keys are unknown options, not settings", () => {
    const { options, unknown } = mergeOptions({ toString: 1, constructor: 2 });
    expect(unknown).toEqual(["toString", "constructor"]);
    expect(Object.hasOwn(options, "toString")).toBe(false);
  });

  test("keep_alive NaN is a usage error", () => {
    expectUsage(() => parseKeepAlive(Number.NaN), "NaN");
  });
});
