/**
 * The phrases the natural-language parser knows, English and Chinese, in the order they are tried.
 * Each rule consumes what it matched; whatever no rule consumed (fillers aside) makes the parse fail,
 * so an unknown word is an error, never ignored.
 */
import {
  addDays,
  addDom,
  addMonth,
  addTime,
  notUnderstood,
  type Period,
  type Spec,
  setInterval,
  setPeriod,
  to24,
} from "./spec.ts";

export interface Rule {
  pattern: RegExp;
  apply(groups: ReadonlyArray<string | undefined>, spec: Spec, text: string): void;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH =
  "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";
const DAY =
  "sun(?:day)?s?|mon(?:day)?s?|tue(?:s|sday)?s?|wed(?:nesday)?s?|thu(?:r|rs|rsday)?s?|fri(?:day)?s?|sat(?:urday)?s?";
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const ORD = "(?:st|nd|rd|th)";
const THE_MONTH = "(?:\\s+of\\s+(?:the|every|each)\\s+month)?";

const monthNumber = (name: string) => MONTHS.indexOf(name.slice(0, 3)) + 1;
const dayNumber = (name: string) => DAYS.indexOf(name.slice(0, 3));
const num = (value: string | undefined) => Number(value);

/** Days from `from` to `to` going forward through the week (fri-mon wraps over the weekend). */
function dayRange(from: number, to: number): number[] {
  const days: number[] = [];
  for (let day = from; ; day = (day + 1) % 7) {
    days.push(day);
    if (day === to) return days;
  }
}

const CN_DAY: Record<string, number> = { 日: 0, 天: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 7: 0 };
const cnDay = (char: string) => CN_DAY[char] ?? Number(char);

/** 一三五, 一、三、五, 一到五, 周一至周五: the weekday chars after 周/星期/礼拜, with ranges. */
function chineseDays(list: string): number[] {
  const days: number[] = [];
  const chars = [...list.replace(/周|星期|礼拜|\s/g, "")];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string;
    if (/[、,和与及]/.test(char)) continue;
    if (/[到至~-]/.test(char)) {
      const from = days.pop();
      const to = chars[++i];
      if (from === undefined || to === undefined) continue;
      days.push(...dayRange(from, cnDay(to)));
      continue;
    }
    days.push(cnDay(char));
  }
  return days;
}

/** Chinese periods of the day and what they do to an hour on the 12-hour clock people speak. */
function chineseHour(period: string | undefined, hour: number): number {
  switch (period) {
    case "下午":
    case "傍晚":
      return hour < 12 ? hour + 12 : hour;
    case "中午":
      return hour <= 2 ? hour + 12 : hour;
    case "晚上":
    case "夜里":
    case "夜间":
    case "夜晚":
    case "深夜":
      if (hour === 12) return 0;
      return hour >= 5 && hour < 12 ? hour + 12 : hour;
    case "凌晨":
      return hour === 12 ? 0 : hour;
    default:
      return hour;
  }
}

const CN_PERIOD = "(凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|夜间|夜晚|深夜)?";

function cnMinute(half?: string, quarter?: string, threeQuarters?: string, minutes?: string): number {
  if (half) return 30;
  if (quarter) return 15;
  if (threeQuarters) return 45;
  return minutes === undefined ? 0 : Number(minutes);
}

const PERIOD_WORDS: Record<string, Period> = {
  hour: "hour",
  hourly: "hour",
  day: "day",
  daily: "day",
  night: "day",
  nightly: "day",
  week: "week",
  weekly: "week",
  month: "month",
  monthly: "month",
  year: "year",
  yearly: "year",
  annually: "year",
};

function intervalUnit(word: string): "second" | "minute" | "hour" | "day" {
  if (/^(秒|s)/.test(word)) return "second";
  if (/^(分|m)/.test(word)) return "minute";
  if (/^(小时|钟头|h)/.test(word)) return "hour";
  return "day";
}

export const RULES: readonly Rule[] = [
  // ---- dates: Chinese -------------------------------------------------------------------------
  {
    pattern: /(每年)?(\d{1,2})月(?:的)?(\d{1,2})[日号]/,
    apply: ([, , month, day], spec, text) => {
      if (num(month) < 1 || num(month) > 12) throw notUnderstood(text, `there is no month ${month}`);
      addMonth(spec, num(month));
      addDom(spec, num(day), text);
    },
  },
  {
    pattern: /每个?月的?(?:最后[一1]天|底|末)|月底|月末/,
    apply: (_, spec, text) => addDom(spec, "L", text),
  },
  { pattern: /每个?月的?第[一1]天|月初/, apply: (_, spec, text) => addDom(spec, 1, text) },
  {
    pattern: /每个?月的?(?:第)?(\d{1,2})[日号]/,
    apply: ([, day], spec, text) => addDom(spec, num(day), text),
  },
  { pattern: /(\d{1,2})[日号]/, apply: ([, day], spec, text) => addDom(spec, num(day), text) },
  {
    pattern: /每年(\d{1,2})月/,
    apply: ([, month], spec, text) => {
      if (num(month) < 1 || num(month) > 12) throw notUnderstood(text, `there is no month ${month}`);
      addMonth(spec, num(month));
    },
  },
  { pattern: /每个?月/, apply: (_, spec, text) => setPeriod(spec, "month", text) },
  { pattern: /每年/, apply: (_, spec, text) => setPeriod(spec, "year", text) },
  // ---- dates: English -------------------------------------------------------------------------
  {
    pattern: new RegExp(`\\b(?:on\\s+)?(?:the\\s+)?(\\d{1,2})${ORD}?\\s+(?:of\\s+)?(${MONTH})\\b`),
    apply: ([, day, month], spec, text) => {
      addMonth(spec, monthNumber(month ?? ""));
      addDom(spec, num(day), text);
    },
  },
  {
    pattern: new RegExp(
      `\\b(?:on\\s+)?(${MONTH})\\s+(?:the\\s+)?(\\d{1,2})${ORD}?\\b(?!\\s*(?::|am|pm|o'?clock))`,
    ),
    apply: ([, month, day], spec, text) => {
      addMonth(spec, monthNumber(month ?? ""));
      addDom(spec, num(day), text);
    },
  },
  {
    pattern: new RegExp(`\\b(?:in\\s+|every\\s+)?(${MONTH})\\b`),
    apply: ([, month], spec) => addMonth(spec, monthNumber(month ?? "")),
  },
  {
    pattern:
      /\b(?:on\s+)?(?:the\s+)?(?:last\s+day\s+of\s+(?:the\s+|every\s+|each\s+)?month|end\s+of\s+(?:the\s+|every\s+|each\s+)?month)\b/,
    apply: (_, spec, text) => addDom(spec, "L", text),
  },
  {
    pattern: /\b(?:on\s+)?(?:the\s+)?first\s+day\s+of\s+(?:the\s+|every\s+|each\s+)?month\b/,
    apply: (_, spec, text) => addDom(spec, 1, text),
  },
  {
    pattern: new RegExp(`\\b(?:on\\s+)?(?:the\\s+)?(\\d{1,2})${ORD}(?:\\s+day)?${THE_MONTH}\\b`),
    apply: ([, day], spec, text) => addDom(spec, num(day), text),
  },
  {
    pattern: new RegExp(`\\bon\\s+day\\s+(\\d{1,2})${THE_MONTH}\\b`),
    apply: ([, day], spec, text) => addDom(spec, num(day), text),
  },
  // ---- days of the week -----------------------------------------------------------------------
  { pattern: /每?个?工作日/, apply: (_, spec) => addDays(spec, [1, 2, 3, 4, 5]) },
  { pattern: /每?个?周末/, apply: (_, spec) => addDays(spec, [0, 6]) },
  {
    pattern:
      /(?:每个?)?(?:周|星期|礼拜)([一二三四五六日天1-7](?:\s*(?:[、,和与及]|到|至|-|~)?\s*(?:周|星期|礼拜)?[一二三四五六日天1-7])*)/,
    apply: ([, list], spec) => addDays(spec, chineseDays(list ?? "")),
  },
  { pattern: /每个?(?:周|星期|礼拜)/, apply: (_, spec, text) => setPeriod(spec, "week", text) },
  {
    pattern: /\b(?:every\s+|on\s+)?(?:weekdays?|working\s+days?|business\s+days?)\b/,
    apply: (_, spec) => addDays(spec, [1, 2, 3, 4, 5]),
  },
  { pattern: /\b(?:every\s+|on\s+)?weekends?\b/, apply: (_, spec) => addDays(spec, [0, 6]) },
  {
    pattern: new RegExp(`\\b(${DAY})\\s*(?:-|to|through|thru|until)\\s*(${DAY})\\b`),
    apply: ([, from, to], spec) => addDays(spec, dayRange(dayNumber(from ?? ""), dayNumber(to ?? ""))),
  },
  { pattern: new RegExp(`\\b(${DAY})\\b`), apply: ([, day], spec) => addDays(spec, [dayNumber(day ?? "")]) },
  // ---- minute past the hour -------------------------------------------------------------------
  {
    pattern: /每个?小时的?第?(\d{1,2})分钟?/,
    apply: ([, minute], spec, text) => {
      setPeriod(spec, "hour", text);
      setMinuteOfHour(spec, num(minute), text);
    },
  },
  {
    pattern: /\b(?:at\s+)?(\d{1,2})\s+minutes?\s+past(?:\s+(?:the|every|each)\s+hour)?\b/,
    apply: ([, minute], spec, text) => setMinuteOfHour(spec, num(minute), text),
  },
  {
    pattern: /\bat\s+:(\d{2})\b/,
    apply: ([, minute], spec, text) => setMinuteOfHour(spec, num(minute), text),
  },
  // ---- intervals and periods ------------------------------------------------------------------
  {
    pattern: /每隔?\s*(\d+)\s*个?\s*(秒钟?|分钟|分|小时|钟头|天|日)/,
    apply: ([, n, unit], spec, text) => setInterval(spec, intervalUnit(unit ?? ""), num(n), text),
  },
  {
    pattern: /每隔?\s*(?:1\s*)?个?\s*(秒钟?|分钟)/,
    apply: ([, unit], spec, text) => setInterval(spec, intervalUnit(unit ?? ""), 1, text),
  },
  {
    pattern: /每隔?\s*(?:1\s*)?个?\s*(?:小时|钟头)/,
    apply: (_, spec, text) => setPeriod(spec, "hour", text),
  },
  { pattern: /每天|每日|天天/, apply: (_, spec, text) => setPeriod(spec, "day", text) },
  {
    pattern: /\b(?:every|each)\s+(\d+)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)\b/,
    apply: ([, n, unit], spec, text) => setInterval(spec, intervalUnit(unit ?? ""), num(n), text),
  },
  {
    pattern: /\b(?:every|each)\s+other\s+(second|minute|hour|day)\b/,
    apply: ([, unit], spec, text) => setInterval(spec, intervalUnit(unit ?? ""), 2, text),
  },
  {
    pattern: /\b(?:every|each)\s+(second|sec|minute|min)\b/,
    apply: ([, unit], spec, text) => setInterval(spec, intervalUnit(unit ?? ""), 1, text),
  },
  {
    pattern:
      /\b(?:(?:every|each)\s+(hour|day|night|week|month|year)|(hourly|daily|nightly|weekly|monthly|yearly|annually))\b/,
    apply: ([, every, adverb], spec, text) =>
      setPeriod(spec, PERIOD_WORDS[every ?? adverb ?? ""] as Period, text),
  },
  // ---- times of day ---------------------------------------------------------------------------
  {
    pattern: new RegExp(
      `${CN_PERIOD}\\s*(\\d{1,2})\\s*[点时]钟?\\s*(?:(半)|(一刻)|(三刻)|整|(\\d{1,2})\\s*分?)?`,
    ),
    apply: ([, period, hour, half, quarter, threeQuarters, minutes], spec, text) =>
      addTime(spec, chineseHour(period, num(hour)), cnMinute(half, quarter, threeQuarters, minutes), text),
  },
  {
    pattern: new RegExp(`${CN_PERIOD}\\s*(\\d{1,2}):(\\d{2})(?:\\s*(am|pm))?`),
    apply: ([, period, hour, minute, meridiem], spec, text) =>
      addTime(spec, chineseHour(period, to24(num(hour), meridiem, text)), num(minute), text),
  },
  { pattern: /中午/, apply: (_, spec, text) => addTime(spec, 12, 0, text) },
  { pattern: /午夜|半夜|子夜/, apply: (_, spec, text) => addTime(spec, 0, 0, text) },
  {
    pattern: /\bhalf\s+past\s+(\d{1,2})(?:\s*(am|pm))?\b/,
    apply: ([, hour, meridiem], spec, text) => addTime(spec, to24(num(hour), meridiem, text), 30, text),
  },
  {
    pattern: /\bquarter\s+past\s+(\d{1,2})(?:\s*(am|pm))?\b/,
    apply: ([, hour, meridiem], spec, text) => addTime(spec, to24(num(hour), meridiem, text), 15, text),
  },
  {
    pattern: /\bquarter\s+to\s+(\d{1,2})(?:\s*(am|pm))?\b/,
    apply: ([, hour, meridiem], spec, text) =>
      addTime(spec, (to24(num(hour), meridiem, text) + 23) % 24, 45, text),
  },
  {
    pattern: /\b(\d{1,2})\s*(am|pm)\b/,
    apply: ([, hour, meridiem], spec, text) => addTime(spec, to24(num(hour), meridiem, text), 0, text),
  },
  {
    pattern: /\b(\d{1,2})\s*o'?clock(?:\s*(am|pm))?\b/,
    apply: ([, hour, meridiem], spec, text) => addTime(spec, to24(num(hour), meridiem, text), 0, text),
  },
  { pattern: /\b(?:noon|midday)\b/, apply: (_, spec, text) => addTime(spec, 12, 0, text) },
  { pattern: /\bmidnight\b/, apply: (_, spec, text) => addTime(spec, 0, 0, text) },
  { pattern: /\bat\s+(\d{1,2})\b/, apply: ([, hour], spec, text) => addTime(spec, num(hour), 0, text) },
];

function setMinuteOfHour(spec: Spec, minute: number, text: string): void {
  if (minute > 59) throw notUnderstood(text, `there is no minute ${minute} in an hour`);
  if (spec.minuteOfHour !== undefined && spec.minuteOfHour !== minute)
    throw notUnderstood(text, "it names two minutes past the hour");
  spec.minuteOfHour = minute;
}

/** Words that carry no schedule of their own once the rules have read the rest. */
export const FILLERS =
  /\b(?:every|each|on|at|the|of|in|and|run|runs)\b|[,&、]|每个?|的|和|与|及|在|执行|运行|触发|一次|1次/g;
