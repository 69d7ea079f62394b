/** Due times in real time zones, across both DST transitions, with no clock involved. */
import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import { formatInZone, nextRuns, resolveTimeZone, slotsBetween } from "./schedule.ts";

const at = (iso: string) => Date.parse(iso);
const local = (times: number[], zone: string) => times.map((t) => formatInZone(t, zone));

describe("DST in America/New_York", () => {
  const zone = "America/New_York";
  test("a 02:30 job on the spring-forward day runs once, at 03:30 EDT", () => {
    const runs = nextRuns("30 2 * * *", zone, at("2024-03-09T12:00:00Z"), 3);
    expect(local(runs, zone)).toEqual([
      "2024-03-10 03:30:00 -04:00",
      "2024-03-11 02:30:00 -04:00",
      "2024-03-12 02:30:00 -04:00",
    ]);
  });
  test("a 01:30 job on the fall-back day runs once, not in both 01:30s", () => {
    const runs = nextRuns("30 1 * * *", zone, at("2024-11-02T12:00:00Z"), 2);
    expect(local(runs, zone)).toEqual(["2024-11-03 01:30:00 -04:00", "2024-11-04 01:30:00 -05:00"]);
    // Asking again from just after the first 01:30 must not yield the repeated wall time.
    expect(nextRuns("30 1 * * *", zone, runs[0] as number, 1)).toEqual([runs[1] as number]);
  });
  test("an hourly job keeps running every real hour through the repeated hour", () => {
    const runs = nextRuns("0 * * * *", zone, at("2024-11-03T04:30:00Z"), 3);
    expect(runs.map((t) => new Date(t).toISOString())).toEqual([
      "2024-11-03T05:00:00.000Z",
      "2024-11-03T06:00:00.000Z",
      "2024-11-03T07:00:00.000Z",
    ]);
  });
});

describe("DST in Europe/Berlin", () => {
  const zone = "Europe/Berlin";
  test("spring forward: 02:30 runs once at 03:30 CEST", () => {
    const runs = nextRuns("30 2 * * *", zone, at("2024-03-30T12:00:00Z"), 2);
    expect(local(runs, zone)).toEqual(["2024-03-31 03:30:00 +02:00", "2024-04-01 02:30:00 +02:00"]);
  });
  test("fall back: 02:30 runs once", () => {
    const runs = nextRuns("30 2 * * *", zone, at("2024-10-26T12:00:00Z"), 2);
    expect(local(runs, zone)).toEqual(["2024-10-27 02:30:00 +02:00", "2024-10-28 02:30:00 +01:00"]);
    const missed = slotsBetween(
      "30 2 * * *",
      zone,
      at("2024-10-26T12:00:00Z"),
      at("2024-10-27T12:00:00Z"),
      10,
    );
    expect(missed.times).toHaveLength(1);
  });
});

test("slotsBetween walks back from the end and says when it stopped early", () => {
  const all = slotsBetween("0 * * * *", "UTC", at("2024-01-01T00:00:00Z"), at("2024-01-01T05:30:00Z"), 10);
  expect(all.times.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual([
    "01:00",
    "02:00",
    "03:00",
    "04:00",
    "05:00",
  ]);
  expect(all.more).toBe(false);
  const capped = slotsBetween("0 * * * *", "UTC", at("2024-01-01T00:00:00Z"), at("2024-01-01T05:30:00Z"), 2);
  expect(capped.times.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(["04:00", "05:00"]);
  expect(capped.more).toBe(true);
});

test("seconds extension", () => {
  expect(nextRuns("*/15 * * * * *", "UTC", at("2024-01-01T00:00:01Z"), 2)).toEqual([
    at("2024-01-01T00:00:15Z"),
    at("2024-01-01T00:00:30Z"),
  ]);
});

test("time zones: explicit, configured, local; unknown ones refused", () => {
  expect(resolveTimeZone("Asia/Shanghai", "UTC")).toBe("Asia/Shanghai");
  expect(resolveTimeZone(undefined, "UTC")).toBe("UTC");
  expect(resolveTimeZone(undefined)).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  expectUsage(() => resolveTimeZone("Mars/Olympus"), /unknown time zone 'Mars\/Olympus'/);
});
