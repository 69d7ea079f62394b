/**
 * The parser table: every schedule people write that we claim to understand, with the exact
 * expression it must become, and the inputs that must be refused rather than guessed at.
 */
import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../../tests/expect-error.ts";
import { looksLikeCron, parseSchedule } from "./natural.ts";
import { chineseNumber } from "./normalize.ts";

const ACCEPTED: ReadonlyArray<[string, string]> = [
  // cron passes through unchanged
  ["* * * * *", "* * * * *"],
  ["*/15 * * * *", "*/15 * * * *"],
  ["0 9 * * MON-FRI", "0 9 * * MON-FRI"],
  ["0 0 1 JAN *", "0 0 1 JAN *"],
  ["0 9-17 * * 1-5", "0 9-17 * * 1-5"],
  ["0,30 8,12,18 * * *", "0,30 8,12,18 * * *"],
  ["0 0 L * *", "0 0 L * *"],
  ["5 4 * * sun", "5 4 * * sun"],
  ["*/10 * * * * *", "*/10 * * * * *"],
  ["* * * * * *", "* * * * * *"],
  ["@hourly", "@hourly"],
  ["@daily", "@daily"],
  ["@weekly", "@weekly"],
  ["@monthly", "@monthly"],
  ["@yearly", "@yearly"],
  ["@annually", "@annually"],
  ["  0   9 * * *  ", "0 9 * * *"],
  // English: intervals
  ["every minute", "* * * * *"],
  ["every 5 minutes", "*/5 * * * *"],
  ["every 15 mins", "*/15 * * * *"],
  ["every five minutes", "*/5 * * * *"],
  ["each 30 minutes", "*/30 * * * *"],
  ["every 10 seconds", "*/10 * * * * *"],
  ["every second", "* * * * * *"],
  ["every 2 hours", "0 */2 * * *"],
  ["every other hour", "0 */2 * * *"],
  ["every 6 hours", "0 */6 * * *"],
  ["every 3 days", "0 0 */3 * *"],
  ["every 2 days at 6am", "0 6 */2 * *"],
  ["every 15 minutes on weekdays", "*/15 * * * 1-5"],
  // English: periods
  ["hourly", "0 * * * *"],
  ["every hour", "0 * * * *"],
  ["daily", "0 0 * * *"],
  ["every day", "0 0 * * *"],
  ["weekly", "0 0 * * 0"],
  ["monthly", "0 0 1 * *"],
  ["yearly", "0 0 1 1 *"],
  ["annually", "0 0 1 1 *"],
  ["every hour at :15", "15 * * * *"],
  ["every hour at 30 minutes past", "30 * * * *"],
  // English: times of day
  ["at 2am", "0 2 * * *"],
  ["every day at 2am", "0 2 * * *"],
  ["daily at 14:30", "30 14 * * *"],
  ["14:30", "30 14 * * *"],
  ["at noon", "0 12 * * *"],
  ["every day at midnight", "0 0 * * *"],
  ["half past 3pm", "30 15 * * *"],
  ["quarter past 9am", "15 9 * * *"],
  ["quarter to 5pm daily", "45 16 * * *"],
  ["at 9:30 p.m.", "30 21 * * *"],
  ["at 12am", "0 0 * * *"],
  ["at 12pm", "0 12 * * *"],
  ["at 7 o'clock", "0 7 * * *"],
  ["every day at 9am and 5pm", "0 9,17 * * *"],
  ["every night at 11pm", "0 23 * * *"],
  ["at 18", "0 18 * * *"],
  // English: days of the week
  ["every weekday at 9am", "0 9 * * 1-5"],
  ["weekdays at 8:15", "15 8 * * 1-5"],
  ["every weekend at 10am", "0 10 * * 0,6"],
  ["every monday", "0 0 * * 1"],
  ["on mondays at 9am", "0 9 * * 1"],
  ["every monday and friday at 10:00", "0 10 * * 1,5"],
  ["mon, wed, fri at 8am", "0 8 * * 1,3,5"],
  ["tuesday through thursday at 6pm", "0 18 * * 2-4"],
  ["monday to friday at 7:45am", "45 7 * * 1-5"],
  ["every sunday at noon", "0 12 * * 0"],
  ["sat and sun at 9", "0 9 * * 0,6"],
  ["friday to monday at 1am", "0 1 * * 0,1,5,6"],
  ["weekly on friday at 5pm", "0 17 * * 5"],
  // English: days of the month and year
  ["on the 15th of every month at 2am", "0 2 15 * *"],
  ["every month on the 1st at 9am", "0 9 1 * *"],
  ["monthly on the 15th", "0 0 15 * *"],
  ["on the 1st and 15th at noon", "0 12 1,15 * *"],
  ["first day of the month", "0 0 1 * *"],
  ["last day of the month at 11pm", "0 23 L * *"],
  ["on the last day of every month", "0 0 L * *"],
  ["on day 10 of the month at 8am", "0 8 10 * *"],
  ["every year on january 1st", "0 0 1 1 *"],
  ["jan 1 at 9am", "0 9 1 1 *"],
  ["on the 25th of december at 8am", "0 8 25 12 *"],
  ["yearly on jul 4 at noon", "0 12 4 7 *"],
  // Chinese: intervals and periods
  ["每分钟", "* * * * *"],
  ["每5分钟", "*/5 * * * *"],
  ["每 10 分钟", "*/10 * * * *"],
  ["每隔15分钟", "*/15 * * * *"],
  ["每五分钟", "*/5 * * * *"],
  ["每30秒", "*/30 * * * * *"],
  ["每秒", "* * * * * *"],
  ["每小时", "0 * * * *"],
  ["每个小时", "0 * * * *"],
  ["每2小时", "0 */2 * * *"],
  ["每两小时", "0 */2 * * *"],
  ["每小时的第30分钟", "30 * * * *"],
  ["每小时15分", "15 * * * *"],
  ["每天", "0 0 * * *"],
  ["每3天", "0 0 */3 * *"],
  ["每周", "0 0 * * 0"],
  ["每月", "0 0 1 * *"],
  ["每年", "0 0 1 1 *"],
  // Chinese: times of day
  ["每天凌晨2点", "0 2 * * *"],
  ["每天下午2点半", "30 14 * * *"],
  ["每天早上8点", "0 8 * * *"],
  ["每天上午9点15分", "15 9 * * *"],
  ["每天中午12点", "0 12 * * *"],
  ["每天中午", "0 12 * * *"],
  ["每天晚上10点", "0 22 * * *"],
  ["每晚8点", "0 20 * * *"],
  ["每天14:30", "30 14 * * *"],
  ["每天14点30分", "30 14 * * *"],
  ["每天下午3点一刻", "15 15 * * *"],
  ["每天9点三刻", "45 9 * * *"],
  ["每天零点", "0 0 * * *"],
  ["每天午夜", "0 0 * * *"],
  ["每天十点", "0 10 * * *"],
  ["每天凌晨两点半执行", "30 2 * * *"],
  ["每天２３：００", "0 23 * * *"],
  // Chinese: days of the week
  ["每周一上午9点", "0 9 * * 1"],
  ["每周日晚上8点", "0 20 * * 0"],
  ["每星期五下午6点", "0 18 * * 5"],
  ["每周一三五下午3点", "0 15 * * 1,3,5"],
  ["每周二、周四早上7点", "0 7 * * 2,4"],
  ["周一到周五早上8点半", "30 8 * * 1-5"],
  ["周一至周五上午9点", "0 9 * * 1-5"],
  ["工作日上午9点", "0 9 * * 1-5"],
  ["每个工作日下午5点", "0 17 * * 1-5"],
  ["周末上午10点", "0 10 * * 0,6"],
  ["礼拜六中午", "0 12 * * 6"],
  // Chinese: days of the month and year
  ["每月15日凌晨2点", "0 2 15 * *"],
  ["每月1号", "0 0 1 * *"],
  ["每个月的第一天", "0 0 1 * *"],
  ["每月最后一天晚上10点", "0 22 L * *"],
  ["每月1日和15日上午9点", "0 9 1,15 * *"],
  ["每年1月1日", "0 0 1 1 *"],
  ["每年12月25日上午10点", "0 10 25 12 *"],
  ["每年十月一日", "0 0 1 10 *"],
];

const REJECTED: ReadonlyArray<[string, RegExp]> = [
  ["", /empty/],
  ["sometimes", /'sometimes' is not something I understand/],
  ["every blursday", /'blursday'/],
  ["next tuesday at 9am", /'next'/],
  ["tomorrow", /'tomorrow'/],
  ["every 7 minutes", /cannot be written in cron exactly/],
  ["every 90 minutes", /cannot be written in cron exactly/],
  ["every 5 hours", /cannot be written in cron exactly/],
  ["every 45 seconds", /cannot be written in cron exactly/],
  ["every 0 minutes", /not a frequency/],
  ["every day at 13pm", /12-hour clock/],
  ["at 25:00", /not a time of day/],
  ["every day at 9am and 5:30pm", /different minutes/],
  ["on the 32nd", /no day 32/],
  ["hourly at 9am", /cannot also run at a time/],
  ["every 5 minutes at 9am", /cannot also run at a time/],
  ["daily on mondays", /contradict/],
  ["every monday on the 1st", /both days of the week and days of the month/],
  ["every", /neither when nor how often/],
  ["每8分钟", /cannot be written in cron exactly/],
  ["每天25点", /not a time of day/],
  ["每月32日", /no day 32/],
  ["每13月1日", /no month 13|not something/],
  ["随便什么时候", /not something I understand/],
  ["61 * * * *", /invalid cron expression/],
  ["0 0 30 2 *", /invalid cron expression/],
  ["0 24 * * *", /invalid cron expression/],
  ["@reboot", /unknown cron macro/],
  ["@often", /unknown cron macro/],
  ["* * * * * * *", /not something I understand/],
];

describe("parseSchedule accepts", () => {
  for (const [input, expression] of ACCEPTED) {
    test(`${JSON.stringify(input)} → ${expression}`, () => {
      expect(parseSchedule(input).expression).toBe(expression);
    });
  }
});

describe("parseSchedule rejects", () => {
  for (const [input, message] of REJECTED) {
    test(JSON.stringify(input), () => {
      const error = expectUsage(() => parseSchedule(input), message);
      // Every refusal says what would have worked.
      expect(error.hint).toMatch(/every weekday at 9am|use one of|known macros/);
    });
  }
});

test("the table is as large as promised", () => {
  expect(ACCEPTED.length + REJECTED.length).toBeGreaterThanOrEqual(80);
});

test("cron input is recognised by shape, English by words", () => {
  expect(parseSchedule("0 9 * * 1").source).toBe("cron");
  expect(parseSchedule("every day").source).toBe("natural");
  expect(looksLikeCron("mon tue wed thu fri")).toBe(false);
  expect(looksLikeCron("every monday at 9 am")).toBe(false);
});

test("Chinese numerals", () => {
  expect([chineseNumber("十"), chineseNumber("十五"), chineseNumber("二十三"), chineseNumber("两")]).toEqual([
    10, 15, 23, 2,
  ]);
  expect(chineseNumber("十十")).toBeUndefined();
});
