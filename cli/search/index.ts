import { Command } from "commander";
import { notImplemented } from "../../src/core/errors.ts";

export function searchCommand(): Command {
  return new Command("search")
    .description("Meta search: query many engines at once and rank by consensus")
    .argument("<query...>", "what to search for")
    .option("-e, --engines <list>", "engines to query, comma-separated")
    .option("-l, --limit <n>", "number of results")
    .option("-t, --timeout <ms>", "per-engine timeout")
    .option("--page <n>", "result page")
    .option("--lang <code>", "result language")
    .option("--safe <level>", "safe search: off, moderate, strict")
    .option("--time <range>", "day, week, month or year")
    .option("--proxy <url>", "proxy to use (http, https, socks5)")
    .action(() => {
      throw notImplemented("search");
    });
}
