/**
 * What the natural-language rules extract from a schedule (an interval or a period, times of day,
 * days and months) and how that becomes one cron expression. Every field may be set once: two rules
 * that disagree are an error, never a silent choice between them.
 */
import { A3sError } from "../../core/errors.ts";

export type IntervalUnit = "second" | "minute" | "hour" | "day";
export type Period = "hour" | "day" | "week" | "month" | "year";

export interface TimeOfDay {
  hour: number;
  minute: number;
}

export interface Spec {
  interval?: { unit: IntervalUnit; n: number };
  period?: Period;
  times: TimeOfDay[];
  /** "at :15 past every hour", 每小时30分. */
  minuteOfHour?: number;
  dow: number[];
  dom: Array<number | "L">;
  months: number[];
}

export function emptySpec(): Spec {
  return { times: [], dow: [], dom: [], months: [] };
}

export function notUnderstood(text: string, why: string): A3sError {
  return new A3sError("usage", `cannot read the schedule '${text}': ${why}`, { hint: EXAMPLES_HINT });
}

export const EXAMPLES_HINT =
  "examples: 'every 5 minutes', 'every weekday at 9am', 'on the 15th of every month at 2:30', " +
  "'last day of the month at noon', '每天凌晨2点', '工作日上午9点', '每月15日凌晨2点', " +
  "or a cron expression such as '0 9 * * MON-FRI' or '@daily'";

export function setInterval(spec: Spec, unit: IntervalUnit, n: number, text: string): void {
  if (spec.interval || spec.period) throw notUnderstood(text, "it names more than one frequency");
  if (!Number.isInteger(n) || n < 1) throw notUnderstood(text, `'every ${n} ${unit}s' is not a frequency`);
  spec.interval = { unit, n };
}

export function setPeriod(spec: Spec, period: Period, text: string): void {
  if (spec.period === period) return;
  if (spec.interval || spec.period) throw notUnderstood(text, "it names more than one frequency");
  spec.period = period;
}

export function addTime(spec: Spec, hour: number, minute: number, text: string): void {
  if (
    !Number.isInteger(hour) ||
    hour < 0 ||
    hour > 23 ||
    !Number.isInteger(minute) ||
    minute < 0 ||
    minute > 59
  )
    throw notUnderstood(text, `${hour}:${String(minute).padStart(2, "0")} is not a time of day`);
  if (!spec.times.some((t) => t.hour === hour && t.minute === minute)) spec.times.push({ hour, minute });
}

/** 12-hour clock to 24: 12am is midnight, 12pm is noon, 13pm is nonsense. */
export function to24(hour: number, meridiem: string | undefined, text: string): number {
  if (meridiem === undefined || meridiem === "") return hour;
  if (hour < 1 || hour > 12)
    throw notUnderstood(text, `'${hour}${meridiem}' is not a time on a 12-hour clock`);
  const pm = meridiem.startsWith("p");
  return (hour % 12) + (pm ? 12 : 0);
}

export function addDays(spec: Spec, days: readonly number[]): void {
  for (const day of days) if (!spec.dow.includes(day % 7)) spec.dow.push(day % 7);
}

export function addDom(spec: Spec, day: number | "L", text: string): void {
  if (day !== "L" && (!Number.isInteger(day) || day < 1 || day > 31))
    throw notUnderstood(text, `there is no day ${day} in a month`);
  if (!spec.dom.includes(day)) spec.dom.push(day);
}

export function addMonth(spec: Spec, month: number): void {
  if (!spec.months.includes(month)) spec.months.push(month);
}

/** Sorted values, with runs of three or more written as ranges (1,2,3,4,5 → 1-5). */
export function compactList(values: readonly number[]): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    const start = sorted[i] as number;
    const end = sorted[j] as number;
    if (j - i >= 2) parts.push(`${start}-${end}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(",");
}

const divisors = (n: number) =>
  Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0 && d < n);

/** An interval cron can express exactly: its steps restart at 0 each minute, hour or day. */
function checkDivides(n: number, whole: number, unit: string, text: string): void {
  if (whole % n === 0 && n < whole) return;
  throw new A3sError(
    "usage",
    `cannot read the schedule '${text}': every ${n} ${unit}s cannot be written in cron exactly ` +
      `(its steps restart every ${whole} ${unit}s)`,
    { hint: `use one of ${divisors(whole).join(", ")} ${unit}s, or write a cron expression yourself` },
  );
}

export function buildExpression(spec: Spec, text: string): string {
  const hasDate = spec.dow.length > 0 || spec.dom.length > 0 || spec.months.length > 0;
  if (
    !spec.interval &&
    !spec.period &&
    spec.times.length === 0 &&
    spec.minuteOfHour === undefined &&
    !hasDate
  )
    throw notUnderstood(text, "it says neither when nor how often");
  if (spec.dow.length > 0 && spec.dom.length > 0)
    throw notUnderstood(
      text,
      "it names both days of the week and days of the month, which cron would run on either",
    );
  let { dow, dom, months } = spec;
  const period = spec.period;
  if ((period === "month" || period === "year") && dow.length > 0)
    throw notUnderstood(text, `a ${period}ly schedule cannot also name days of the week`);
  if (period === "week" && (dom.length > 0 || months.length > 0))
    throw notUnderstood(text, "a weekly schedule cannot also name days of the month");
  if (period === "day" && dow.length + dom.length > 0)
    throw notUnderstood(text, "'every day' and particular days contradict each other");
  if (period === "week" && dow.length === 0) dow = [0];
  if (period === "month" && dom.length === 0) dom = [1];
  if (period === "year") {
    if (months.length === 0) months = [1];
    if (dom.length === 0) dom = [1];
  }
  if (months.length > 0 && dom.length === 0 && dow.length === 0) dom = [1];
  const domField =
    dom.length === 0 ? "*" : dom.includes("L") ? dom.map(String).join(",") : compactList(dom as number[]);
  const date = `${domField} ${months.length === 0 ? "*" : compactList(months)} ${dow.length === 0 ? "*" : compactList(dow)}`;

  const interval = spec.interval;
  const noTimes = (what: string) => {
    if (spec.times.length > 0) throw notUnderstood(text, `${what} cannot also run at a time of day`);
  };
  if (interval?.unit === "second") {
    noTimes(`every ${interval.n} seconds`);
    if (interval.n > 1) checkDivides(interval.n, 60, "second", text);
    return `${interval.n === 1 ? "*" : `*/${interval.n}`} * * ${date}`;
  }
  if (interval?.unit === "minute") {
    noTimes(`every ${interval.n} minutes`);
    if (interval.n > 1) checkDivides(interval.n, 60, "minute", text);
    return `${interval.n === 1 ? "*" : `*/${interval.n}`} * ${date}`;
  }
  if (interval?.unit === "hour" || period === "hour") {
    noTimes(interval ? `every ${interval.n} hours` : "every hour");
    const n = interval?.n ?? 1;
    if (n > 1) checkDivides(n, 24, "hour", text);
    return `${spec.minuteOfHour ?? 0} ${n === 1 ? "*" : `*/${n}`} ${date}`;
  }
  if (spec.minuteOfHour !== undefined) {
    if (spec.times.length > 0) throw notUnderstood(text, "it names both a minute past the hour and a time");
    return `${spec.minuteOfHour} * ${date}`;
  }
  const times = spec.times.length > 0 ? spec.times : [{ hour: 0, minute: 0 }];
  const minutes = new Set(times.map((t) => t.minute));
  if (minutes.size > 1)
    throw notUnderstood(text, "times with different minutes need one job each (cron has one minute field)");
  const clock = `${times[0]?.minute ?? 0} ${compactList(times.map((t) => t.hour))}`;
  if (interval?.unit === "day") {
    if (dow.length > 0 || dom.length > 0)
      throw notUnderstood(text, `every ${interval.n} days cannot also name particular days`);
    if (interval.n > 31) throw notUnderstood(text, `every ${interval.n} days is longer than a month`);
    return `${clock} ${interval.n === 1 ? "*" : `*/${interval.n}`} ${months.length === 0 ? "*" : compactList(months)} *`;
  }
  return `${clock} ${date}`;
}
