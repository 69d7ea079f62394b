/**
 * The SQLite database (a3s.db): WAL so readers never block the writer, a busy timeout so concurrent
 * a3s processes wait instead of failing, and numbered migrations applied at open.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { A3sError } from "./errors.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";

export type { Migration };
export { Database };

const BUSY_TIMEOUT_MS = 10_000;

export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  withBusyRetry(() => db.run("PRAGMA journal_mode = WAL"));
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
  migrate(db, migrations);
  return db;
}

/**
 * Switching a new database to WAL takes an exclusive lock without going through the busy handler, so
 * two processes creating a3s.db at once can see SQLITE_BUSY despite the busy timeout: retry it.
 */
function withBusyRetry(work: () => void): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      work();
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== "SQLITE_BUSY" || Date.now() > deadline) throw err;
      Bun.sleepSync(delay);
    }
  }
}

export function schemaVersion(db: Database): number {
  const row = db.query("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

/**
 * Applies pending migrations in one IMMEDIATE transaction: a second process opening the database at
 * the same moment waits on the write lock, then finds the work done.
 */
export function migrate(db: Database, migrations: readonly Migration[]): void {
  checkNumbering(migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  if (schemaVersion(db) === latest) return;
  db.run("BEGIN IMMEDIATE");
  try {
    const current = schemaVersion(db);
    if (current > latest) {
      throw new A3sError(
        "conflict",
        `the database schema (version ${current}) is newer than this a3s understands (${latest})`,
        { hint: "upgrade a3s, or point --home at another directory" },
      );
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      if (typeof migration.up === "string") db.run(migration.up);
      else migration.up(db);
    }
    db.run(`PRAGMA user_version = ${latest}`);
    db.run("COMMIT");
  } catch (err) {
    db.run("ROLLBACK");
    throw err;
  }
}

function checkNumbering(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `migration '${migration.name}' is numbered ${migration.version}, expected ${index + 1}`,
      );
    }
  });
}
