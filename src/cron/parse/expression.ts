/**
 * Cron expressions themselves: the @macros we accept, their expansion, and validation through
 * cron-parser (including expressions that parse but can never fire, such as 30 February).
 */
import { CronExpressionParser } from "cron-parser";
import { A3sError } from "../../core/errors.ts";
import { EXAMPLES_HINT } from "./spec.ts";

export const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** The plain 5- or 6-field form of an expression (macros expanded). */
export function expandExpression(expression: string): string {
  const trimmed = expression.trim();
  if (trimmed.startsWith("@")) {
    const expanded = MACROS[trimmed.toLowerCase()];
    if (expanded === undefined) {
      throw new A3sError("usage", `unknown cron macro '${trimmed}'`, {
        hint: `known macros: ${Object.keys(MACROS).join(", ")}${trimmed === "@reboot" ? " (a3s cron runs jobs on a schedule only; @reboot is not one)" : ""}`,
      });
    }
    return expanded;
  }
  return trimmed;
}

/** Throws a usage error naming the problem when cron-parser rejects the expression or it never fires. */
export function validateExpression(expression: string): void {
  const expanded = expandExpression(expression);
  const fields = expanded.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new A3sError(
      "usage",
      `'${expression}' has ${fields} fields; cron needs 5 (or 6 with seconds first)`,
      {
        hint: EXAMPLES_HINT,
      },
    );
  }
  try {
    CronExpressionParser.parse(expanded, { currentDate: new Date(0), tz: "UTC" }).next();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new A3sError("usage", `invalid cron expression '${expression}': ${reason}`, {
      hint: EXAMPLES_HINT,
    });
  }
}
