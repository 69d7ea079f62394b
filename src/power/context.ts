/**
 * What power operations need, opened once per command: configuration, the database, the model store
 * and the registry that names without a host resolve to.
 */
import type { Database } from "bun:sqlite";
import { type Config, loadConfig } from "../core/config.ts";
import { openDatabase } from "../core/db.ts";
import type { Paths } from "../core/paths.ts";
import { parseRegistry, type RegistryEndpoint } from "./name.ts";
import { ModelStore } from "./store.ts";

export interface PowerContext {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  config: Config;
  db: Database;
  store: ModelStore;
  /** power.registry: the default host of model names, and how to reach it. */
  registry: RegistryEndpoint;
}

export function openPowerContext(paths: Paths, env: NodeJS.ProcessEnv): PowerContext {
  const config = loadConfig(paths.config, env).config;
  const db = openDatabase(paths.db);
  return {
    paths,
    env,
    config,
    db,
    store: new ModelStore(paths.models, db),
    registry: parseRegistry(config.power.registry),
  };
}
