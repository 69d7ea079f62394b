/**
 * When a job is due: cron-parser in the job's time zone (it resolves DST gaps and overlaps, so a
 * 02:30 job runs once on both transition days), time zones checked against the system's database,
 * and times shown in the zone they were computed in.
 */
import { type CronExpression, CronExpressionParser } from "cron-parser";
import { A3sError } from "../core/errors.ts";
import { expandExpression } from "./parse/expression.ts";

export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** --tz, else cron.timezone from the config, else the machine's zone; an unknown name is an error. */
export function resolveTimeZone(requested: string | undefined, configured?: string): string {
  const zone = requested ?? configured ?? localTimeZone();
  if (!isValidTimeZone(zone)) {
    throw new A3sError("usage", `unknown time zone '${zone}'`, {
      hint: "use an IANA name such as UTC, Europe/Berlin or Asia/Shanghai",
    });
  }
  return zone;
}

/**
 * Parsed expressions by expression and zone: parsing costs far more than stepping, and a scheduler
 * asks the same few expressions again and again.
 */
const cache = new Map<string, CronExpression>();
const CACHE_LIMIT = 10_000;

function iterator(expression: string, zone: string, from: Date): CronExpression {
  const key = `${zone}\u0000${expression}`;
  let parsed = cache.get(key);
  if (parsed === undefined) {
    parsed = CronExpressionParser.parse(expandExpression(expression), { currentDate: from, tz: zone });
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, parsed);
  } else {
    parsed.reset(from);
  }
  return parsed;
}

/** The first due time strictly after `after` (epoch ms), or undefined if there is none. */
export function nextRun(expression: string, zone: string, after: number): number | undefined {
  return nextRuns(expression, zone, after, 1)[0];
}

export function nextRuns(expression: string, zone: string, after: number, count: number): number[] {
  const it = iterator(expression, zone, new Date(after));
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    try {
      times.push(it.next().getTime());
    } catch {
      break; // no further occurrence
    }
  }
  return times;
}

export interface Slots {
  /** Due times in (after, upTo], oldest first, at most `max` of the latest. */
  times: number[];
  /** True when older due times in the range were left out because of `max`. */
  more: boolean;
}

/**
 * Due times in (after, upTo]. A long gap costs only about `max` steps: a backward walk finds where
 * the last `max` start, then a forward walk lists them, because cron-parser's backward iteration
 * yields a repeated wall time twice on a fall-back day and the forward one does not.
 */
export function slotsBetween(
  expression: string,
  zone: string,
  after: number,
  upTo: number,
  max: number,
): Slots {
  if (upTo <= after) return { times: [], more: false };
  const back = iterator(expression, zone, new Date(upTo + 1));
  let start = after;
  let more = false;
  for (let seen = 0; seen <= max; seen++) {
    let time: number;
    try {
      time = back.prev().getTime();
    } catch {
      break;
    }
    if (time <= after) break;
    if (seen === max) {
      start = time;
      more = true;
    }
  }
  const forward = iterator(expression, zone, new Date(start));
  const times: number[] = [];
  for (;;) {
    let time: number;
    try {
      time = forward.next().getTime();
    } catch {
      break;
    }
    if (time > upTo) break;
    times.push(time);
  }
  return { times: times.slice(-max), more };
}

/** Formatters by zone: building an Intl.DateTimeFormat costs far more than using one (10,000-job ls). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
      timeZoneName: "longOffset",
    });
    formatters.set(zone, format);
  }
  return format;
}

function partsInZone(epochMs: number, zone: string): Record<string, string> {
  return Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(epochMs))
      .map((part) => [part.type, part.value]),
  );
}

/** 2024-03-11 09:00:00 +01:00, the wall time in `zone` with its offset. */
export function formatInZone(epochMs: number, zone: string): string {
  const parts = partsInZone(epochMs, zone);
  const offset = (parts.timeZoneName ?? "GMT").replace("GMT", "") || "+00:00";
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${offset}`;
}

export function weekdayInZone(epochMs: number, zone: string): string {
  return partsInZone(epochMs, zone).weekday ?? "";
}
