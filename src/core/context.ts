/** What every subsystem's operations start from: where state lives, configuration and the database. */
import type { Database } from "bun:sqlite";
import { type Config, loadConfig } from "./config.ts";
import { openDatabase } from "./db.ts";
import type { Paths } from "./paths.ts";

export interface CoreContext {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  config: Config;
  db: Database;
}

export function openCoreContext(paths: Paths, env: NodeJS.ProcessEnv): CoreContext {
  return { paths, env, config: loadConfig(paths.config, env).config, db: openDatabase(paths.db) };
}
