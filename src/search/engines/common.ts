/** Helpers several engines share: language tags, time ranges and safe-search levels in their terms. */
import type { HTMLElement } from "node-html-parser";
import { blockedError, textOf } from "../html.ts";
import type { TimeRange } from "../types.ts";

/** "de-CH" → { language: "de", region: "ch" }; "en" → { language: "en" }. */
export function splitLang(lang: string | undefined): { language?: string; region?: string } {
  if (!lang || lang === "all" || lang === "auto") return {};
  const [language, region] = lang.replace("_", "-").toLowerCase().split("-");
  return { ...(language ? { language } : {}), ...(region ? { region } : {}) };
}

export const TIME_RANGE_SECONDS: Record<TimeRange, number> = {
  day: 86_400,
  week: 7 * 86_400,
  month: 30 * 86_400,
  year: 365 * 86_400,
};

/** Start of the time range as YYYY-MM-DD (UTC), for engines that filter by a "since" date. */
export function sinceDate(time: TimeRange, now = Date.now()): string {
  return new Date(now - TIME_RANGE_SECONDS[time] * 1000).toISOString().slice(0, 10);
}

const LOOSE_BOT_CHECK =
  /captcha|verify you are (?:a )?human|unusual traffic|are you a robot|安全验证|异常流量/i;

/**
 * Called when a scraped page yielded no results: a page without results that talks about CAPTCHAs
 * or unusual traffic is a bot check, not an empty answer. (Checked only then, so a query about
 * CAPTCHAs whose results mention them still parses.)
 */
export function assertNotSilentBlock(engine: string, root: HTMLElement): void {
  const title = textOf(root.querySelector("title"));
  const forms = root
    .querySelectorAll("form")
    .map((form) => `${form.getAttribute("action") ?? ""} ${form.getAttribute("id") ?? ""}`)
    .join(" ");
  if (LOOSE_BOT_CHECK.test(`${title} ${forms}`) || LOOSE_BOT_CHECK.test(textOf(root.querySelector("h1")))) {
    throw blockedError(engine, title || "challenge page");
  }
}

/** A leading date engines put in front of snippets ("Mar 3, 2024 — Tokio is…", "2024-03-03 · …"). */
export function splitLeadingDate(snippet: string): { date?: string; rest: string } {
  const match = snippet.match(
    /^((?:[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4})|(?:\d{1,2} [A-Z][a-z]{2,8}\.? \d{4})|(?:\d{4}-\d{1,2}-\d{1,2}))\s*[-–—·]\s*/,
  );
  if (!match?.[1]) return { rest: snippet };
  const parsed = new Date(`${match[1]}${/^\d{4}-/.test(match[1]) ? "T00:00:00Z" : " UTC"}`);
  if (Number.isNaN(parsed.getTime())) return { rest: snippet };
  return { date: parsed.toISOString(), rest: snippet.slice(match[0].length) };
}
