/**
 * `a3s search`: the meta search. Options are validated here, the core (src/search) does the work,
 * and the answer is printed as numbered results, `title\turl` lines or JSON. The core is imported
 * when the command runs, so --help and --version never load the engines.
 */
import { Command, Option } from "commander";
import type { z } from "zod";
import { A3sError } from "../../src/core/errors.ts";
import { createContext } from "../context.ts";
import { renderCompact, renderHuman, reportEngines } from "./render.ts";

/** Built when the command runs: zod and the schema would otherwise cost every `a3s` start. */
async function flagsSchema() {
  const { z } = await import("zod");
  const positiveInt = (name: string, max = 1_000_000) =>
    z.coerce
      .number({ error: `${name} must be a number` })
      .int(`${name} must be a whole number`)
      .min(1, `${name} must be at least 1`)
      .max(max, `${name} must be at most ${max}`);
  return z.object({
    engines: z.string().optional(),
    limit: positiveInt("--limit", 200).optional(),
    timeout: positiveInt("--timeout", 600_000).optional(),
    deadline: positiveInt("--deadline", 600_000).optional(),
    page: positiveInt("--page", 100).optional(),
    lang: z.string().optional(),
    safe: z
      .enum(["off", "moderate", "strict"], { error: "--safe must be off, moderate or strict" })
      .optional(),
    time: z
      .enum(["day", "week", "month", "year"], { error: "--time must be day, week, month or year" })
      .optional(),
    proxy: z.array(z.string()).default([]),
    format: z
      .enum(["human", "compact", "json"], { error: "--format must be human, compact or json" })
      .default("human"),
    open: positiveInt("--open", 200).optional(),
    cache: z.boolean().default(true),
  });
}

function collectProxy(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

type Flags = z.infer<Awaited<ReturnType<typeof flagsSchema>>>;

async function parseFlags(raw: unknown): Promise<Flags> {
  const result = (await flagsSchema()).safeParse(raw);
  if (!result.success) {
    throw new A3sError("usage", result.error.issues[0]?.message ?? "invalid option", {
      hint: "see 'a3s search --help'",
    });
  }
  return result.data;
}

export function searchCommand(): Command {
  return new Command("search")
    .description("Meta search: query many engines at once and rank by consensus")
    .argument("<query...>", "what to search for")
    .option(
      "-e, --engines <list>",
      "engines to query, comma-separated names or shortcuts (default: search.engines)",
    )
    .option("-l, --limit <n>", "number of results (default: search.limit)")
    .option("-t, --timeout <ms>", "per-engine timeout (default: search.timeoutMs)")
    .option("--deadline <ms>", "deadline for the whole query (default: search.deadlineMs)")
    .option("--page <n>", "result page (default: 1)")
    .option("--lang <code>", "result language, e.g. en, de-CH (default: search.lang)")
    .option("--safe <level>", "safe search: off, moderate, strict (default: search.safe)")
    .option("--time <range>", "only results from the last day, week, month or year")
    .option(
      "--proxy <url>",
      "proxy for the engines: http, https or socks5 URL (repeatable; replaces search.proxies)",
      collectProxy,
    )
    .addOption(
      new Option("--format <format>", "output format").choices(["human", "compact", "json"]).default("human"),
    )
    .option("--open <n>", "open result N in the browser ($BROWSER, or the system's opener)")
    .option("--no-cache", "query the engines even if a cached answer exists")
    .addCommand(enginesCommand())
    .action(async (words: string[], rawFlags: unknown, command: Command) => {
      const flags = await parseFlags(rawFlags);
      const { out, paths, env } = createContext(command);
      const { openCoreContext } = await import("../../src/core/context.ts");
      const core = openCoreContext(paths, env);
      const { search } = await import("../../src/search/search.ts");
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort());
      const response = await search(
        { config: core.config.search, env, db: core.db },
        {
          query: words.join(" "),
          ...(flags.engines !== undefined ? { engines: flags.engines.split(",") } : {}),
          ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
          ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
          ...(flags.deadline !== undefined ? { deadlineMs: flags.deadline } : {}),
          ...(flags.page !== undefined ? { page: flags.page } : {}),
          ...(flags.lang !== undefined ? { lang: flags.lang } : {}),
          ...(flags.safe !== undefined ? { safe: flags.safe } : {}),
          ...(flags.time !== undefined ? { time: flags.time } : {}),
          ...(flags.proxy.length > 0 ? { proxies: flags.proxy } : {}),
          noCache: !flags.cache,
          signal: controller.signal,
        },
      );
      if (out.json || flags.format === "json") out.printJson(response);
      else if (flags.format === "compact") renderCompact(out, response);
      else renderHuman(out, response);
      if (!out.json && flags.format !== "json") reportEngines(out, response);
      if (flags.open !== undefined) {
        const result = response.results[flags.open - 1];
        if (result === undefined) {
          throw new A3sError(
            "usage",
            `--open ${flags.open}: there are only ${response.results.length} results`,
          );
        }
        const { openInBrowser } = await import("./open.ts");
        openInBrowser(result.url, env);
      }
    });
}

function enginesCommand(): Command {
  return new Command("engines")
    .description("List search engines, their shortcuts and whether they can run")
    .action(async (_options, command: Command) => {
      const { out, paths, env } = createContext(command);
      const { loadConfig } = await import("../../src/core/config.ts");
      const { listEngines } = await import("../../src/search/search.ts");
      const engines = listEngines(loadConfig(paths.config, env).config.search, env);
      if (out.json) {
        out.printJson({ engines });
        return;
      }
      out.table(engines, [
        { header: "NAME", value: (e) => e.name },
        { header: "SHORTCUT", value: (e) => e.shortcut },
        { header: "CATEGORIES", value: (e) => e.categories.join(",") },
        { header: "WEIGHT", value: (e) => String(e.weight) },
        { header: "DEFAULT", value: (e) => (e.default ? "yes" : "") },
        { header: "STATE", value: (e) => (e.available ? "ready" : (e.reason ?? "unavailable")) },
      ]);
    });
}
