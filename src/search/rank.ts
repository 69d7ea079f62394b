/**
 * Consensus ranking: reciprocal-rank fusion across engines, weighted per engine, boosted by how many
 * engines agree on a page. Results are merged by normalised URL; the snippet kept is the most
 * informative one any engine gave.
 */
import type { EngineResult } from "./types.ts";
import { cleanUrl, normalizeUrl } from "./url.ts";

/** RRF's constant: 60 in the original paper, so a page agreed on by two engines beats any single top hit. */
export const RRF_K = 60;
/** Extra factor per additional agreeing engine, on top of RRF's sum. */
export const AGREEMENT_BOOST = 0.25;

export interface EngineRun {
  engine: string;
  weight: number;
  results: readonly EngineResult[];
}

export interface RankedResult {
  url: string;
  title: string;
  snippet: string;
  /** Engines that returned this page, best position first. */
  engines: string[];
  /** 1-based position in each engine's list. */
  positions: Record<string, number>;
  score: number;
  publishedDate?: string;
  thumbnail?: string;
}

interface Group {
  key: string;
  urls: string[];
  titles: Array<{ text: string; weight: number; position: number }>;
  snippets: string[];
  positions: Map<string, number>;
  weights: Map<string, number>;
  publishedDate?: string;
  thumbnail?: string;
  firstSeen: number;
}

export function aggregate(runs: readonly EngineRun[]): RankedResult[] {
  const groups = new Map<string, Group>();
  let order = 0;
  for (const run of runs) {
    run.results.forEach((result, index) => {
      if (!result.url) return;
      const key = normalizeUrl(result.url);
      let group = groups.get(key);
      if (group === undefined) {
        group = {
          key,
          urls: [],
          titles: [],
          snippets: [],
          positions: new Map(),
          weights: new Map(),
          firstSeen: order++,
        };
        groups.set(key, group);
      }
      const position = index + 1;
      // An engine listing the same page twice counts once, at its better position.
      if (group.positions.has(run.engine)) return;
      group.positions.set(run.engine, position);
      group.weights.set(run.engine, run.weight);
      group.urls.push(result.url);
      if (result.title.trim() !== "") {
        group.titles.push({ text: result.title.trim(), weight: run.weight, position });
      }
      if (result.snippet.trim() !== "") group.snippets.push(result.snippet.trim());
      group.publishedDate ??= result.publishedDate;
      group.thumbnail ??= result.thumbnail;
    });
  }
  const ranked = [...groups.values()].map((group) => toRanked(group));
  ranked.sort((a, b) => b.score - a.score || bestPosition(a) - bestPosition(b) || a.order - b.order);
  return ranked.map(({ order: _order, ...result }) => result);
}

function toRanked(group: Group): RankedResult & { order: number } {
  let fused = 0;
  for (const [engine, position] of group.positions) {
    fused += (group.weights.get(engine) ?? 1) / (RRF_K + position);
  }
  const agreeing = group.positions.size;
  const score = fused * (1 + AGREEMENT_BOOST * (agreeing - 1));
  const engines = [...group.positions.entries()].sort((a, b) => a[1] - b[1]).map(([engine]) => engine);
  const title = bestTitle(group.titles) ?? group.urls[0] ?? group.key;
  const result: RankedResult & { order: number } = {
    url: preferredUrl(group.urls),
    title,
    snippet: mostInformative(group.snippets, title),
    engines,
    positions: Object.fromEntries(group.positions),
    score: Math.round(score * 1e6) / 1e6,
    order: group.firstSeen,
  };
  if (group.publishedDate !== undefined) result.publishedDate = group.publishedDate;
  if (group.thumbnail !== undefined) result.thumbnail = group.thumbnail;
  return result;
}

function bestPosition(result: RankedResult): number {
  return Math.min(...Object.values(result.positions));
}

/** The title from the heaviest engine, at its best position: engines truncate titles differently. */
function bestTitle(titles: Group["titles"]): string | undefined {
  let best: Group["titles"][number] | undefined;
  for (const title of titles) {
    if (
      best === undefined ||
      title.weight > best.weight ||
      (title.weight === best.weight && title.position < best.position)
    ) {
      best = title;
    }
  }
  return best?.text;
}

/** https over http, then the first engine's spelling; tracking parameters and fragments removed. */
function preferredUrl(urls: readonly string[]): string {
  const https = urls.find((url) => url.startsWith("https://"));
  return cleanUrl(https ?? urls[0] ?? "");
}

const ELLIPSIS = /(\.\.\.|…)\s*$/;

/**
 * The snippet that tells most: the one with the most distinct words not already in the title; a
 * snippet cut short with an ellipsis loses ties to a complete one, then the longer wins.
 */
export function mostInformative(snippets: readonly string[], title = ""): string {
  const titleWords = new Set(words(title));
  let best = "";
  let bestScore = -1;
  for (const snippet of snippets) {
    const distinct = new Set(words(snippet).filter((word) => !titleWords.has(word)));
    const score = distinct.size * 2 + (ELLIPSIS.test(snippet) ? 0 : 1);
    if (score > bestScore || (score === bestScore && snippet.length > best.length)) {
      best = snippet;
      bestScore = score;
    }
  }
  return best;
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}
