import { expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import { formatDuration, parseDuration } from "./duration.ts";

test("durations in the forms people type", () => {
  expect(parseDuration("90")).toBe(90_000);
  expect(parseDuration("30s")).toBe(30_000);
  expect(parseDuration("5m")).toBe(300_000);
  expect(parseDuration("1h30m")).toBe(5_400_000);
  expect(parseDuration("500ms")).toBe(500);
  expect(parseDuration("none")).toBeNull();
  expect(parseDuration("0")).toBeNull();
  expectUsage(() => parseDuration("soon", "--timeout"), /invalid --timeout 'soon'/);
  expectUsage(() => parseDuration("5x"), /invalid duration/);
});

test("formatDuration is exact and short", () => {
  expect([
    formatDuration(120),
    formatDuration(45_000),
    formatDuration(5_400_000),
    formatDuration(90_061_000),
  ]).toEqual(["120ms", "45s", "1h30m", "1d1h1m1s"]);
});
