/**
 * A schedule as people write it (English or Chinese) or as cron does, to one cron expression.
 * Cron expressions pass through unchanged once cron-parser accepts them; everything else goes
 * through the rules, and an input the rules do not fully account for is an error with examples.
 */
import { A3sError } from "../../core/errors.ts";
import { validateExpression } from "./expression.ts";
import { normalize } from "./normalize.ts";
import { FILLERS, RULES } from "./rules.ts";
import { buildExpression, EXAMPLES_HINT, emptySpec, notUnderstood } from "./spec.ts";

export interface ParsedSchedule {
  /** What the user wrote. */
  text: string;
  /** Standard 5-field cron, or 6 fields with seconds first (our extension), or an @macro. */
  expression: string;
  /** Whether the text was already cron ("cron") or was translated ("natural"). */
  source: "cron" | "natural";
}

/** Tokens a cron field may hold: digits, * ? / , - L W # H and month or weekday names. */
const FIELD =
  /^(?:[0-9*?/,LWH#-]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)+$/i;
const FIRST_FIELD = /^[0-9*?/,H-]+$/i;

export function looksLikeCron(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.startsWith("@")) return true;
  const fields = trimmed.split(/\s+/);
  return (
    (fields.length === 5 || fields.length === 6) &&
    FIRST_FIELD.test(fields[0] ?? "") &&
    fields.every((field) => FIELD.test(field))
  );
}

export function parseSchedule(input: string): ParsedSchedule {
  const text = input.trim();
  if (text === "") {
    throw new A3sError("usage", "the schedule is empty", { hint: EXAMPLES_HINT });
  }
  if (looksLikeCron(text)) {
    const expression = text.replace(/\s+/g, " ");
    validateExpression(expression);
    return { text, expression, source: "cron" };
  }
  const spec = emptySpec();
  let rest = normalize(text);
  for (const rule of RULES) {
    const global = new RegExp(rule.pattern.source, `${rule.pattern.flags.replace("g", "")}g`);
    rest = rest.replace(global, (...args: unknown[]) => {
      // replace() passes the match, its groups, then the offset and the whole string.
      const groups = args.slice(0, -2) as Array<string | undefined>;
      rule.apply(groups, spec, text);
      return " ";
    });
  }
  const leftover = rest.replace(FILLERS, " ").replace(/\s+/g, " ").trim();
  if (leftover !== "") throw notUnderstood(text, `'${leftover}' is not something I understand`);
  const expression = buildExpression(spec, text);
  validateExpression(expression);
  return { text, expression, source: "natural" };
}
