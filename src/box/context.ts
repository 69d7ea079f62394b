/**
 * What box operations need, opened once per command: the core context and the box stores.
 */
import { join } from "node:path";
import { type CoreContext, openCoreContext } from "../core/context.ts";
import type { Paths } from "../core/paths.ts";
import { BoxStore } from "./boxes.ts";
import { BlobStore } from "./oci/blobs.ts";
import { ImageStore } from "./oci/images.ts";
import { LayerCache } from "./oci/layers.ts";

export interface BoxContext extends CoreContext {
  blobs: BlobStore;
  images: ImageStore;
  layers: LayerCache;
  boxes: BoxStore;
}

export function openBoxContext(paths: Paths, env: NodeJS.ProcessEnv): BoxContext {
  const core = openCoreContext(paths, env);
  return {
    ...core,
    blobs: new BlobStore(paths.blobs, join(paths.images, "ingest")),
    images: new ImageStore(core.db),
    layers: new LayerCache(paths.layers),
    boxes: new BoxStore(core.db),
  };
}
