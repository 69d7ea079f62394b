/** Core checks: the home directory, the SQLite database in it and the configuration file. */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Config, loadConfig } from "../core/config.ts";
import { type Database, openDatabase, schemaVersion } from "../core/db.ts";
import { isA3sError } from "../core/errors.ts";
import type { Paths } from "../core/paths.ts";
import { type Check, reporter } from "./check.ts";

export const HOME_CHECK = "home";

/** Creates the home when missing, then proves it writable by writing and removing a file. */
export function checkHome(home: string): Check {
  const report = reporter("core", HOME_CHECK);
  try {
    mkdirSync(home, { recursive: true });
    const probe = join(home, `.doctor-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
    writeFileSync(probe, "");
    rmSync(probe);
    return report("ok", `${home} is writable`, { path: home });
  } catch (err) {
    return report("error", `${home} is not writable: ${describeWriteError(err)}`, { path: home });
  }
}

function describeWriteError(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case "EEXIST":
    case "ENOTDIR":
      return "a file is in the way of the directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Opens a3s.db as every command does (migrations applied) and confirms the WAL journal took: it needs
 * shared memory, which some network filesystems lack.
 */
export function checkSqlite(dbPath: string, homeWritable: boolean): Check {
  const report = reporter("core", "sqlite");
  if (!homeWritable)
    return report("warn", "not checked: the home directory is not writable", { path: dbPath });
  let db: Database | undefined;
  try {
    db = openDatabase(dbPath);
    const version = db.query<{ version: string }, []>("select sqlite_version() as version").get()?.version;
    const mode = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode;
    const details = {
      path: dbPath,
      sqliteVersion: version,
      journalMode: mode,
      schemaVersion: schemaVersion(db),
    };
    if (mode !== "wal")
      return report("warn", `SQLite ${version}, but WAL is unavailable (journal mode ${mode})`, details);
    return report("ok", `SQLite ${version}, WAL journal works`, details);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return report("error", `cannot open ${dbPath}: ${message}`, { path: dbPath });
  } finally {
    db?.close();
  }
}

/** Validates config.json (JSONC) and the environment overrides; other checks read the result. */
export function checkConfig(paths: Paths, env: NodeJS.ProcessEnv): { check: Check; config?: Config } {
  const report = reporter("core", "config");
  try {
    const loaded = loadConfig(paths.config, env);
    const fromEnvironment = [...loaded.sources].filter(([, source]) => source === "env").map(([key]) => key);
    const summary = existsSync(paths.config) ? `${paths.config} is valid` : "no config file; defaults apply";
    return { check: report("ok", summary, { path: paths.config, fromEnvironment }), config: loaded.config };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = isA3sError(err) ? err.hint : undefined;
    return {
      check: report(
        "error",
        message,
        hint === undefined ? { path: paths.config } : { path: paths.config, hint },
      ),
    };
  }
}
