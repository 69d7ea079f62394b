/**
 * GitHub's repository search API (api.github.com/search/repositories). Anonymous requests are
 * allowed (10 a minute); a token from GITHUB_TOKEN raises the limit. Snippet: the description
 * plus stars and language, which is what people scan repositories by.
 */
import { A3sError } from "../../core/errors.ts";
import { isoDate, parseJsonBody } from "../html.ts";
import type { Engine, EngineResult, EngineSearchOptions } from "../types.ts";
import { sinceDate } from "./common.ts";

export const GITHUB_PAGE_SIZE = 20;

interface GitHubResponse {
  message?: string;
  items?: Array<{
    full_name?: string;
    html_url?: string;
    description?: string | null;
    stargazers_count?: number;
    language?: string | null;
    pushed_at?: string;
    updated_at?: string;
    owner?: { avatar_url?: string } | null;
  }>;
}

export function parseGitHub(text: string, status = 200): EngineResult[] {
  if (status === 403 || status === 429) {
    const message = safeMessage(text);
    throw new A3sError("network", `github: ${message ?? `HTTP ${status}`}`, {
      hint: "set GITHUB_TOKEN (or search.apiKeyEnv.github) to raise GitHub's rate limit",
    });
  }
  const body = parseJsonBody<GitHubResponse>("github", { status, text });
  const results: EngineResult[] = [];
  for (const repo of body.items ?? []) {
    if (!repo.html_url) continue;
    const facts = [
      repo.stargazers_count === undefined ? undefined : `★ ${repo.stargazers_count.toLocaleString("en-US")}`,
      repo.language ?? undefined,
    ].filter(Boolean);
    const snippet = [repo.description ?? "", facts.join(" · ")].filter((part) => part !== "").join(" — ");
    const result: EngineResult = { url: repo.html_url, title: repo.full_name ?? repo.html_url, snippet };
    const date = isoDate(repo.pushed_at ?? repo.updated_at);
    if (date) result.publishedDate = date;
    if (repo.owner?.avatar_url) result.thumbnail = repo.owner.avatar_url;
    results.push(result);
  }
  return results;
}

function safeMessage(text: string): string | undefined {
  try {
    return (JSON.parse(text) as GitHubResponse).message;
  } catch {
    return undefined;
  }
}

export const github: Engine = {
  name: "github",
  shortcut: "gh",
  categories: ["code"],
  weight: 0.9,
  baseUrl: "https://api.github.com",
  apiKeyEnv: "GITHUB_TOKEN",
  api: true,
  async search(query: string, page: number, options: EngineSearchOptions): Promise<EngineResult[]> {
    const q = options.time ? `${query} pushed:>=${sinceDate(options.time)}` : query;
    const params = new URLSearchParams({ q, per_page: String(GITHUB_PAGE_SIZE), page: String(page) });
    const headers: Record<string, string> = {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
    };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    const response = await options.http.fetch(
      `${options.baseUrl.replace(/\/$/, "")}/search/repositories?${params}`,
      { headers },
    );
    return parseGitHub(response.text, response.status);
  },
};
