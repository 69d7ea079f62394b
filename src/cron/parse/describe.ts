/**
 * A cron expression in plain English ("At 09:00, Monday through Friday"), so a user can check that
 * what was understood is what was meant. Common shapes read naturally; anything else is described
 * field by field rather than guessed at.
 */
import { expandExpression } from "./expression.ts";

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const ALIASES: Record<string, number> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const isNumber = (field: string) => /^\d+$/.test(field);
const pad = (n: number | string) => String(n).padStart(2, "0");

function joinWords(words: readonly string[], last = "and"): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${last} ${words.at(-1)}`;
}

/** A list/range field with names: 1-5 → Monday through Friday, 1,3,5 → Monday, Wednesday and Friday. */
function named(field: string, names: readonly string[], offset: number): string {
  const value = (token: string) => {
    const n = ALIASES[token.toLowerCase()] ?? Number(token);
    return names[(n - offset + names.length) % names.length] ?? token;
  };
  return joinWords(
    field.split(",").map((part) => {
      const [range, step] = part.split("/");
      const [from = "", to] = (range ?? "").split("-");
      const text = to === undefined ? value(from) : `${value(from)} through ${value(to)}`;
      return step
        ? `every ${step}${ordinalSuffix(Number(step))} ${text === "*" ? "" : `of ${text}`}`.trim()
        : text;
    }),
  );
}

function ordinal(n: number): string {
  return `${n}${ordinalSuffix(n)}`;
}

function ordinalSuffix(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return "th";
  return ["th", "st", "nd", "rd"][n % 10] ?? "th";
}

function timePart(second: string | undefined, minute: string, hour: string): string {
  const sec = second === undefined || second === "0" ? "" : second;
  if (sec !== "") {
    const base =
      sec === "*"
        ? "Every second"
        : sec.startsWith("*/")
          ? `Every ${sec.slice(2)} seconds`
          : `At second ${sec}`;
    if (minute === "*" && hour === "*") return base;
    return `${base}, minute ${minute}, hour ${hour}`;
  }
  if (minute === "*" && hour === "*") return "Every minute";
  if (minute.startsWith("*/") && hour === "*") return `Every ${minute.slice(2)} minutes`;
  if (isNumber(minute) && hour === "*")
    return minute === "0" ? "Every hour" : `At ${minute} minutes past every hour`;
  if (isNumber(minute) && hour.startsWith("*/"))
    return `Every ${hour.slice(2)} hours${minute === "0" ? "" : ` at ${minute} minutes past`}`;
  if (isNumber(minute) && /^[\d,]+$/.test(hour))
    return `At ${joinWords(hour.split(",").map((h) => `${pad(h)}:${pad(minute)}`))}`;
  if (isNumber(minute) && /^\d+-\d+$/.test(hour)) {
    const [from, to] = hour.split("-");
    return `At ${minute} minutes past every hour from ${pad(from ?? "")}:00 to ${pad(to ?? "")}:00`;
  }
  if (minute.startsWith("*/") && /^[\d,-]+$/.test(hour))
    return `Every ${minute.slice(2)} minutes, hours ${hour}`;
  return `At minute ${minute} of hour ${hour}`;
}

function dayOfMonthPart(dom: string): string {
  if (dom === "*" || dom === "?") return "";
  if (dom === "L") return "on the last day of the month";
  if (isNumber(dom)) return `on the ${ordinal(Number(dom))} of the month`;
  if (dom.startsWith("*/")) return `every ${dom.slice(2)} days of the month (from the 1st)`;
  if (/^[\d,L]+$/.test(dom))
    return `on the ${joinWords(dom.split(",").map((d) => (d === "L" ? "last day" : ordinal(Number(d)))))} of the month`;
  return `on days ${dom} of the month`;
}

function dayOfWeekPart(dow: string): string {
  if (dow === "*" || dow === "?") return "";
  const normal = dow.toUpperCase();
  if (normal === "1-5" || normal === "MON-FRI") return "Monday through Friday";
  if (normal === "0,6" || normal === "6,0" || normal === "SAT,SUN" || normal === "SUN,SAT")
    return "on weekends";
  if (/[#L]/.test(dow)) return `on days of the week ${dow}`;
  return `on ${named(dow.replace(/\b7\b/g, "0"), DAY_NAMES, 0)}`;
}

function monthPart(month: string): string {
  if (month === "*" || month === "?") return "";
  return `in ${named(month, MONTH_NAMES, 1)}`;
}

export function describeExpression(expression: string): string {
  const fields = expandExpression(expression).split(/\s+/);
  const [second, minute = "*", hour = "*", dom = "*", month = "*", dow = "*"] =
    fields.length === 6 ? fields : [undefined, ...fields];
  const parts = [timePart(second, minute, hour)];
  const days = dayOfMonthPart(dom);
  const weekdays = dayOfWeekPart(dow);
  // Cron runs on either when both day fields are restricted.
  if (days && weekdays) parts.push(`${days} or ${weekdays}`);
  else if (days || weekdays) parts.push(days || weekdays);
  const months = monthPart(month);
  if (months) parts.push(months);
  return parts.join(", ");
}
