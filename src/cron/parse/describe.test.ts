import { expect, test } from "bun:test";
import { describeExpression } from "./describe.ts";

const CASES: ReadonlyArray<[string, string]> = [
  ["* * * * *", "Every minute"],
  ["*/5 * * * *", "Every 5 minutes"],
  ["0 * * * *", "Every hour"],
  ["15 * * * *", "At 15 minutes past every hour"],
  ["0 */2 * * *", "Every 2 hours"],
  ["0 9 * * 1-5", "At 09:00, Monday through Friday"],
  ["0 9 * * MON-FRI", "At 09:00, Monday through Friday"],
  ["0 10 * * 0,6", "At 10:00, on weekends"],
  ["0 9 * * 1,3,5", "At 09:00, on Monday, Wednesday and Friday"],
  ["30 14 * * *", "At 14:30"],
  ["0 9,17 * * *", "At 09:00 and 17:00"],
  ["0 2 15 * *", "At 02:00, on the 15th of the month"],
  ["0 0 L * *", "At 00:00, on the last day of the month"],
  ["0 0 1 1 *", "At 00:00, on the 1st of the month, in January"],
  ["@weekly", "At 00:00, on Sunday"],
  ["*/10 * * * * *", "Every 10 seconds"],
  ["0 0 1 * 1", "At 00:00, on the 1st of the month or on Monday"],
];

for (const [expression, text] of CASES) {
  test(`${expression} reads "${text}"`, () => expect(describeExpression(expression)).toBe(text));
}
