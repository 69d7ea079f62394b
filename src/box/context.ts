/**
 * What box operations need, opened once per command: configuration, the database and the stores.
 */
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { type Config, loadConfig } from "../core/config.ts";
import { openDatabase } from "../core/db.ts";
import type { Paths } from "../core/paths.ts";
import { BoxStore } from "./boxes.ts";
import { BlobStore } from "./oci/blobs.ts";
import { ImageStore } from "./oci/images.ts";
import { LayerCache } from "./oci/layers.ts";

export interface BoxContext {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  config: Config;
  db: Database;
  blobs: BlobStore;
  images: ImageStore;
  layers: LayerCache;
  boxes: BoxStore;
}

export function openBoxContext(paths: Paths, env: NodeJS.ProcessEnv): BoxContext {
  const config = loadConfig(paths.config, env).config;
  const db = openDatabase(paths.db);
  return {
    paths,
    env,
    config,
    db,
    blobs: new BlobStore(paths.blobs, join(paths.images, "ingest")),
    images: new ImageStore(db),
    layers: new LayerCache(paths.layers),
    boxes: new BoxStore(db),
  };
}
