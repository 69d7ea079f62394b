/**
 * What power operations need, opened once per command: the core context, the model store and the
 * registry that names without a host resolve to.
 */
import { type CoreContext, openCoreContext } from "../core/context.ts";
import type { Paths } from "../core/paths.ts";
import { parseRegistry, type RegistryEndpoint } from "./name.ts";
import { ModelStore } from "./store.ts";

export interface PowerContext extends CoreContext {
  store: ModelStore;
  /** power.registry: the default host of model names, and how to reach it. */
  registry: RegistryEndpoint;
}

export function openPowerContext(paths: Paths, env: NodeJS.ProcessEnv): PowerContext {
  const core = openCoreContext(paths, env);
  return {
    ...core,
    store: new ModelStore(paths.models, core.db),
    registry: parseRegistry(core.config.power.registry),
  };
}
