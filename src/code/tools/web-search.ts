/** The web_search tool: the a3s search core (several engines, consensus ranking, cache) for the model. */
import type { Database } from "bun:sqlite";
import { z } from "zod";
import { openDatabase } from "../../core/db.ts";
import { A3sError, isA3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import type { SearchHit, SearchResponse } from "../../search/search.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import { defineTool } from "./tool.ts";

const log = logger("code");

const input = z.object({
  query: z.string().min(2).describe("The search query, as you would type it into a search engine"),
  limit: z
    .number()
    .int()
    .min(1)
    .max(30)
    .optional()
    .describe("How many results to return (default: search.limit, 10)"),
  time_range: z
    .enum(["day", "week", "month", "year"])
    .optional()
    .describe("Only results published within the last day, week, month or year"),
  allowed_domains: z
    .array(z.string())
    .optional()
    .describe('Only keep results from these domains (subdomains included), e.g. ["docs.python.org"]'),
  blocked_domains: z.array(z.string()).optional().describe("Drop results from these domains"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Searches the web through several search engines at once and returns ranked results (title, URL, snippet, the engines that found it).

- Use it for current information: recent releases, documentation you do not know, error messages, news.
- Results are links with snippets, not page contents: fetch the promising ones with web_fetch.
- Narrow with time_range for recent events and allowed_domains / blocked_domains for sources.
- Cite the URLs you used when you answer from search results.`;

function onDomain(url: string, domains: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return domains.some((domain) => {
    const wanted = domain.toLowerCase().replace(/^\*?\./, "");
    return host === wanted || host.endsWith(`.${wanted}`);
  });
}

function formatSearch(response: SearchResponse, hits: readonly SearchHit[]): string {
  const lines = [`Results for "${response.query}"${response.cached ? " (cached)" : ""}:`];
  hits.forEach((hit, i) => {
    lines.push("", `${i + 1}. ${hit.title || hit.url}`, `   ${hit.url}`);
    if (hit.snippet) lines.push(`   ${hit.snippet.replace(/\s+/g, " ").trim()}`);
    const date = hit.publishedDate ? `; published ${hit.publishedDate.slice(0, 10)}` : "";
    lines.push(`   [found by ${hit.engines.join(", ")}${date}]`);
  });
  const failed = response.engines.filter((engine) => engine.error !== null);
  if (failed.length > 0) {
    lines.push(
      "",
      `Engines that failed: ${failed.map((engine) => `${engine.name} (${engine.error?.message})`).join("; ")}`,
    );
  }
  return lines.join("\n");
}

function openCache(ctx: ToolContext): Database | undefined {
  try {
    return openDatabase(ctx.home.paths.db);
  } catch (err) {
    // The cache is an optimisation; a locked or unreadable database must not stop the search.
    log.debug("web_search runs without its cache", { error: (err as Error).message });
    return undefined;
  }
}

async function webSearch(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const { search } = await import("../../search/search.ts");
  const db = openCache(ctx);
  let response: SearchResponse;
  try {
    response = await search(
      { config: ctx.home.config.search, env: ctx.env, ...(db ? { db } : {}) },
      {
        query: value.query,
        signal: ctx.signal,
        ...(value.limit !== undefined ? { limit: value.limit } : {}),
        ...(value.time_range !== undefined ? { time: value.time_range } : {}),
      },
    );
  } catch (err) {
    // The core's hints name CLI flags; the model's way out is different.
    if (!isA3sError(err) || err.code === "interrupted") throw err;
    throw new A3sError(err.code, err.message, {
      hint: "try again later or with other words, or fetch a known URL with web_fetch",
    });
  } finally {
    db?.close();
  }
  const hits = response.results.filter(
    (hit) =>
      (value.allowed_domains === undefined || onDomain(hit.url, value.allowed_domains)) &&
      (value.blocked_domains === undefined || !onDomain(hit.url, value.blocked_domains)),
  );
  if (hits.length === 0) {
    return { content: `No results for "${response.query}".`, summary: "No results" };
  }
  const engines = response.engines.filter((engine) => engine.error === null).length;
  return {
    content: formatSearch(response, hits),
    summary: `${hits.length} result${hits.length === 1 ? "" : "s"} from ${engines} engine${engines === 1 ? "" : "s"}`,
  };
}

export const webSearchTool = defineTool<Input>({
  name: "web_search",
  ruleName: "WebSearch",
  description: DESCRIPTION,
  input,
  readOnly: true,
  ruleSubject: () => undefined,
  run: webSearch,
});
