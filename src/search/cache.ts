/**
 * The search cache in a3s.db: one row per (query, engines, page, language, safe search, time range),
 * holding the whole ranked answer, reused for search.cacheTtlSeconds. Agents repeat queries; the
 * engines should not see them twice.
 */
import type { Database } from "bun:sqlite";
import { createHash } from "node:crypto";

export interface CacheKeyParts {
  query: string;
  engines: readonly string[];
  page: number;
  lang?: string;
  safe: string;
  time?: string;
}

/** Case and spacing of the query do not change what engines answer; engine order does not either. */
export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([
    parts.query.trim().replace(/\s+/g, " ").toLowerCase(),
    [...parts.engines].sort(),
    parts.page,
    parts.lang ?? "",
    parts.safe,
    parts.time ?? "",
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

export class SearchCache {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  get<T>(key: string): { value: T; createdAt: number } | undefined {
    const row = this.db
      .query("SELECT response, created_at FROM search_cache WHERE key = ? AND expires_at > ?")
      .get(key, this.now()) as { response: string; created_at: number } | null;
    if (row === null) return undefined;
    return { value: JSON.parse(row.response) as T, createdAt: row.created_at };
  }

  put(key: string, parts: CacheKeyParts, value: unknown, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    const now = this.now();
    this.db.run("DELETE FROM search_cache WHERE expires_at <= ?", [now]);
    this.db.run(
      `INSERT OR REPLACE INTO search_cache (key, query, engines, page, created_at, expires_at, response)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        key,
        parts.query,
        parts.engines.join(","),
        parts.page,
        now,
        now + ttlSeconds * 1000,
        JSON.stringify(value),
      ],
    );
  }

  /** Removes every entry; returns how many there were. */
  clear(): number {
    return this.db.run("DELETE FROM search_cache").changes;
  }

  stats(): { entries: number; live: number } {
    const row = this.db
      .query("SELECT COUNT(*) AS entries, SUM(expires_at > ?) AS live FROM search_cache")
      .get(this.now()) as { entries: number; live: number | null };
    return { entries: row.entries, live: row.live ?? 0 };
  }
}
