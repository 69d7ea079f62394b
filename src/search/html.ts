/**
 * HTML helpers shared by the engines that scrape result pages: one parser (node-html-parser, small
 * and fast enough for 8 pages × 20 results within a few milliseconds), text extraction that
 * collapses whitespace, and the bot-check detection every scraped engine runs before parsing.
 */
import type { HTMLElement } from "node-html-parser";
import { A3sError } from "../core/errors.ts";

export type { HTMLElement };

type Parser = typeof import("node-html-parser");
let parser: Parser | undefined;

/**
 * The parser is loaded on first use, not at import: a cached answer (the common case for agents
 * repeating a query) never parses HTML and should not pay for loading the parser.
 */
function htmlParser(): Parser {
  parser ??= require("node-html-parser") as Parser;
  return parser;
}

export function parseHtml(html: string): HTMLElement {
  // Scripts and styles are kept as raw text nodes: never needed, and parsing them costs time.
  return htmlParser().parse(html, { blockTextElements: { script: false, style: false, noscript: false } });
}

/** Visible text with entities decoded and whitespace collapsed; "" for a missing element. */
export function textOf(element: HTMLElement | null | undefined): string {
  if (!element) return "";
  return element.text.replace(/\s+/g, " ").trim();
}

/** Strips tags from an HTML fragment an API returns (MediaWiki's snippets, Baidu's abstracts). */
export function stripTags(fragment: string): string {
  if (!fragment.includes("<") && !fragment.includes("&")) return fragment.replace(/\s+/g, " ").trim();
  return textOf(htmlParser().parse(fragment));
}

export function attr(element: HTMLElement | null | undefined, name: string): string | undefined {
  const value = element?.getAttribute(name);
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * Markers of the "are you a robot" pages engines answer with instead of results. Checked on the raw
 * text, before parsing, so a block is never mistaken for an empty result list.
 */
const BOT_CHECK_MARKERS: ReadonlyArray<[RegExp, string]> = [
  // Only tags and attributes, never bare words: a result list about CAPTCHAs must still parse.
  [/<form[^>]+id=["']challenge-form["']/i, "challenge form"],
  [/<div[^>]+class=["'][^"']*\banomaly-modal/i, "anomaly check"],
  [/<(?:script|iframe)[^>]+src=["'][^"']*\/recaptcha\/(?:api|enterprise)/i, "reCAPTCHA"],
  [/<(?:script|iframe)[^>]+src=["'][^"']*hcaptcha\.com/i, "hCaptcha"],
  [/<(?:script|iframe)[^>]+src=["'][^"']*challenges\.cloudflare\.com/i, "Turnstile"],
  [
    /<title>\s*百度安全验证\s*<\/title>|<form[^>]+action=["'][^"']*wappass\.baidu\.com/i,
    "Baidu security check",
  ],
  [/<form[^>]+action=["'][^"']*antispider/i, "Sogou anti-spider check"],
  [/<div[^>]+id=["']b_captcha|<iframe[^>]+src=["'][^"']*\/turing\/captcha/i, "Bing verification"],
  [/<form[^>]+action=["'][^"']*\/captcha\b/i, "CAPTCHA form"],
];

/** The name of the bot check a page is, or undefined for an ordinary page. */
export function detectBotCheck(html: string): string | undefined {
  for (const [pattern, name] of BOT_CHECK_MARKERS) if (pattern.test(html)) return name;
  return undefined;
}

/** The error every engine reports for a bot check: never parsed as results. */
export function blockedError(engine: string, what: string): A3sError {
  return new A3sError("permission", `${engine} answered with a bot check (${what}) instead of results`, {
    hint: "the engine is rate-limiting this address; retry later, or route it through search.proxies",
  });
}

/** Parsers call this first: a bot-check page must never be read as a (empty) result list. */
export function assertNoBotCheck(engine: string, html: string): void {
  const check = detectBotCheck(html);
  if (check !== undefined) throw blockedError(engine, check);
}

/** Scraped engines: a bot check is an error, an HTTP error status too. */
export function checkPage(engine: string, page: { status: number; text: string }): void {
  const check = detectBotCheck(page.text);
  if (check !== undefined) throw blockedError(engine, check);
  checkStatus(engine, page.status);
}

export function checkStatus(engine: string, status: number): void {
  if (status === 429) {
    throw new A3sError("network", `${engine} answered HTTP 429 (too many requests)`, {
      hint: "the engine is rate-limiting this address; retry later, or route it through search.proxies",
    });
  }
  if (status === 401 || status === 403) {
    throw new A3sError("permission", `${engine} refused the request (HTTP ${status})`);
  }
  if (status >= 400) throw new A3sError("network", `${engine} answered HTTP ${status}`);
}

/** JSON APIs: the status first, then the body must parse. */
export function parseJsonBody<T>(engine: string, page: { status: number; text: string }): T {
  checkStatus(engine, page.status);
  try {
    return JSON.parse(page.text) as T;
  } catch {
    throw new A3sError("integrity", `${engine} returned a response that is not JSON`);
  }
}

/** ISO string of a date engines print in many ways, or undefined when it does not parse. */
export function isoDate(value: string | number | undefined | null): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
