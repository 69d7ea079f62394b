/**
 * `a3s doctor`: what each subsystem can use on this machine. Every check reports; none throws, so one
 * broken subsystem never hides the state of the others.
 */
import { join } from "node:path";
import { type IsolationVerdict, probeHost, realHost } from "../box/host.ts";
import { findKernel } from "../box/microvm/kernel.ts";
import type { Paths } from "../core/paths.ts";
import { boxChecks, microvmCheck } from "./box.ts";
import type { Check } from "./check.ts";
import { checkConfig, checkHome, checkSqlite, HOME_CHECK } from "./core.ts";
import { checkProviderKeys, checkProxies, checkTimeZone } from "./environment.ts";
import { checkPower } from "./power.ts";

export type { Check, CheckStatus, Subsystem } from "./check.ts";
export { CHECK_STATUSES, SUBSYSTEMS } from "./check.ts";

export interface DoctorReport {
  checks: Check[];
  isolation: IsolationVerdict;
}

export interface DoctorOptions {
  paths: Paths;
  env: NodeJS.ProcessEnv;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { paths, env } = options;
  const home = checkHome(paths.home);
  const { check: config, config: loaded } = checkConfig(paths, env);
  const host = probeHost(realHost(env), findKernel(paths) ?? join(paths.kernel, "vmlinux"));
  return {
    checks: [
      home,
      checkSqlite(paths.db, home.status === "ok"),
      config,
      ...boxChecks(host),
      microvmCheck(paths, env),
      await checkPower(),
      checkProviderKeys(env, loaded),
      checkTimeZone(loaded),
      checkProxies(env),
    ],
    isolation: host.isolation,
  };
}

/** Whether the report found the home directory unusable, the one finding that makes a3s unable to work. */
export function homeIsUnwritable(report: DoctorReport): boolean {
  return report.checks.some(
    (check) => check.subsystem === "core" && check.name === HOME_CHECK && check.status === "error",
  );
}
