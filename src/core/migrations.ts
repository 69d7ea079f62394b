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
    name: "cron jobs and runs",
    up: (db) => {
      // A job keeps both what the user wrote (schedule) and what it means (expression, in timezone).
      // last_scheduled_at is the latest due time the scheduler has dealt with: missed runs after a
      // downtime are the due times after it (or after updated_at, so pausing is not "missing").
      db.run(`CREATE TABLE cron_jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        schedule TEXT NOT NULL,
        expression TEXT NOT NULL,
        timezone TEXT NOT NULL,
        kind TEXT NOT NULL,
        command TEXT NOT NULL,
        image TEXT,
        workdir TEXT NOT NULL,
        env TEXT NOT NULL DEFAULT '{}',
        timeout_ms INTEGER,
        retries INTEGER NOT NULL DEFAULT 0,
        overlap TEXT NOT NULL DEFAULT 'skip',
        catch_up TEXT,
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_scheduled_at TEXT,
        last_run_at TEXT,
        last_status TEXT,
        next_run_at TEXT,
        run_count INTEGER NOT NULL DEFAULT 0,
        success_count INTEGER NOT NULL DEFAULT 0,
        failure_count INTEGER NOT NULL DEFAULT 0
      )`);
      // One row per run. A scheduled run claims its (job, due time) slot: the unique index is what
      // makes two schedulers, or one restarted after kill -9, unable to run the same slot twice.
      db.run(`CREATE TABLE cron_runs (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES cron_jobs(id) ON DELETE CASCADE,
        job_name TEXT NOT NULL,
        trigger TEXT NOT NULL,
        scheduled_for TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at TEXT,
        finished_at TEXT,
        duration_ms INTEGER,
        exit_code INTEGER,
        signal TEXT,
        stdout TEXT NOT NULL DEFAULT '',
        stderr TEXT NOT NULL DEFAULT '',
        stdout_dropped INTEGER NOT NULL DEFAULT 0,
        stderr_dropped INTEGER NOT NULL DEFAULT 0,
        pid INTEGER,
        pid_start INTEGER,
        owner_pid INTEGER NOT NULL,
        owner_start INTEGER
      )`);
      db.run(
        "CREATE UNIQUE INDEX cron_runs_slot ON cron_runs (job_id, scheduled_for) WHERE scheduled_for IS NOT NULL",
      );
      db.run("CREATE INDEX cron_runs_job ON cron_runs (job_id, id)");
      db.run("CREATE INDEX cron_runs_status ON cron_runs (status)");
      // At most one row: the running scheduler, taken in a write transaction so two never both win.
      db.run(`CREATE TABLE cron_daemon (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        pid_start INTEGER,
        started_at TEXT NOT NULL,
        log TEXT
      )`);
    },
  },
  {
    version: 7,
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
  {
    version: 8,
    name: "code sessions",
    // A session's log is append-only: every message in order, and compaction as a row that says
    // which messages its summary replaces, so resuming rebuilds exactly what the model last saw.
    up: (db) => {
      db.run(`CREATE TABLE code_sessions (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        cwd TEXT NOT NULL,
        model TEXT NOT NULL,
        parent_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0
      )`);
      db.run("CREATE INDEX code_sessions_updated ON code_sessions (updated_at)");
      db.run(`CREATE TABLE code_entries (
        session_id TEXT NOT NULL REFERENCES code_sessions(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'summary')),
        role TEXT,
        content TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      )`);
    },
  },
];
