/** How search answers look on a terminal: numbered results, compact `title\turl`, the engines table. */
import type { EngineReport, SearchResponse } from "../../src/search/search.ts";
import type { Output } from "../output.ts";

const SNIPPET_CHARS = 240;

export function renderHuman(out: Output, response: SearchResponse): void {
  const width = String(response.results.length).length;
  response.results.forEach((result, index) => {
    const number = `${String(result.rank).padStart(width)}.`;
    const indent = " ".repeat(number.length + 1);
    if (index > 0) out.line();
    out.line(`${out.style("bold", number)} ${out.style("bold", result.title)}`);
    out.line(`${indent}${out.style("cyan", result.url)}`);
    if (result.snippet !== "") out.line(`${indent}${truncate(result.snippet, SNIPPET_CHARS)}`);
    const date = result.publishedDate ? ` · ${result.publishedDate.slice(0, 10)}` : "";
    out.line(`${indent}${out.style("dim", `${result.engines.join(", ")}${date}`)}`);
  });
}

export function renderCompact(out: Output, response: SearchResponse): void {
  for (const result of response.results) out.line(`${oneLine(result.title)}\t${result.url}`);
}

/** Engine failures and the summary line go to stderr: stdout stays the results alone. */
export function reportEngines(out: Output, response: SearchResponse): void {
  for (const engine of response.engines) {
    if (engine.error) out.warn(engine.error.message);
  }
  const ok = response.engines.filter((e: EngineReport) => e.error === null).length;
  const source = response.cached ? `cached from ${response.searchedAt}` : `${Math.round(response.tookMs)} ms`;
  out.info(
    out.style(
      "dim",
      `${response.results.length} of ${response.total} results from ${ok}/${response.engines.length} engines (${source})`,
    ),
  );
}

function oneLine(text: string): string {
  return text.replace(/[\t\n\r]+/g, " ");
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/\s+\S*$/, "")}…`;
}
