/** What cron operations need, opened once per command: the core context plus the job and run stores. */
import { join } from "node:path";
import { type CoreContext, openCoreContext } from "../core/context.ts";
import type { Paths } from "../core/paths.ts";
import { RunStore } from "./runs.ts";
import { JobStore } from "./store.ts";

export interface CronContext extends CoreContext {
  jobs: JobStore;
  runs: RunStore;
}

export function openCronContext(paths: Paths, env: NodeJS.ProcessEnv): CronContext {
  const core = openCoreContext(paths, env);
  return { ...core, jobs: new JobStore(core.db), runs: new RunStore(core.db) };
}

/** Where a detached daemon writes its stderr. */
export function daemonLogPath(paths: Paths): string {
  return join(paths.logs, "cron-daemon.log");
}

/** How box jobs and the detached daemon call a3s itself (one definition, in box's lifecycle). */
export { selfCommand } from "../box/lifecycle.ts";
