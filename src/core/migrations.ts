/**
 * Every schema change of a3s.db, numbered from 1 and never edited once released: add a new entry.
 * Subsystems keep their table definitions here so the order across subsystems is explicit.
 */
import type { Database } from "bun:sqlite";

export interface Migration {
  version: number;
  name: string;
  up: string | ((db: Database) => void);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "box images",
    up: (db) => {
      // An image is its config digest (Docker's image ID); tags and repo digests point at it.
      db.run(`CREATE TABLE images (
        id TEXT PRIMARY KEY,
        manifest_digest TEXT NOT NULL,
        manifest_media_type TEXT NOT NULL,
        os TEXT NOT NULL,
        architecture TEXT NOT NULL,
        variant TEXT,
        size INTEGER NOT NULL,
        created TEXT,
        pulled_at TEXT NOT NULL,
        config TEXT NOT NULL,
        layers TEXT NOT NULL
      )`);
      db.run(`CREATE TABLE image_tags (
        reference TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        tagged_at TEXT NOT NULL
      )`);
      db.run("CREATE INDEX image_tags_image ON image_tags(image_id)");
      db.run(`CREATE TABLE image_repo_digests (
        reference TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
      )`);
      db.run("CREATE INDEX image_repo_digests_image ON image_repo_digests(image_id)");
    },
  },
  {
    version: 2,
    name: "boxes",
    up: (db) => {
      // One row per box; its spec (every run option, resolved) is JSON so new options need no migration.
      db.run(`CREATE TABLE boxes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        image_id TEXT NOT NULL,
        image_ref TEXT NOT NULL,
        command TEXT NOT NULL,
        spec TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        exit_code INTEGER,
        error TEXT,
        supervisor_pid INTEGER,
        supervisor_start INTEGER,
        restart_count INTEGER NOT NULL DEFAULT 0,
        stop_requested INTEGER NOT NULL DEFAULT 0
      )`);
      db.run("CREATE INDEX boxes_image ON boxes(image_id)");
    },
  },
  {
    version: 3,
    name: "box snapshots",
    up: `CREATE TABLE snapshots (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      description TEXT NOT NULL DEFAULT '',
      box_id TEXT NOT NULL,
      box_name TEXT NOT NULL,
      image_id TEXT NOT NULL,
      image_ref TEXT NOT NULL,
      command TEXT NOT NULL,
      spec TEXT NOT NULL,
      labels TEXT NOT NULL,
      rootfs_mode TEXT NOT NULL,
      size INTEGER NOT NULL,
      created_at TEXT NOT NULL
    )`,
  },
  {
    version: 4,
    name: "power models",
    // One row per model name (host/namespace/model:tag); the manifest itself lives in
    // power/models/manifests/, Ollama's layout. `blobs` lists every digest it uses, for rm's dedupe.
    up: `CREATE TABLE models (
      name TEXT PRIMARY KEY,
      digest TEXT NOT NULL,
      size INTEGER NOT NULL,
      blobs TEXT NOT NULL,
      details TEXT NOT NULL,
      modified_at TEXT NOT NULL
    )`,
  },
  {
    version: 5,
    name: "power usage",
    // One row per served request, for `power usage` and its cost table. Durations in nanoseconds,
    // as Ollama reports them.
    up: (db) => {
      db.run(`CREATE TABLE power_usage (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        model TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        duration_ns INTEGER NOT NULL,
        status INTEGER NOT NULL
      )`);
      db.run("CREATE INDEX power_usage_at ON power_usage (at)");
    },
  },
  {
    version: 6,
    name: "search cache",
    // One row per (query, engines, page, options) key: the whole ranked answer as JSON, so agents
    // repeating a query within search.cacheTtlSeconds do not hit the engines again.
    up: (db) => {
      db.run(`CREATE TABLE search_cache (
        key TEXT PRIMARY KEY,
        query TEXT NOT NULL,
        engines TEXT NOT NULL,
        page INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        response TEXT NOT NULL
      )`);
      db.run("CREATE INDEX search_cache_expires ON search_cache (expires_at)");
    },
  },
];
