/** Build-time constants, replaced by scripts/build.ts through `define`; a source checkout reports "dev". */
declare const A3S_VERSION: string | undefined;
declare const A3S_COMMIT: string | undefined;

import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = typeof A3S_VERSION === "string" ? A3S_VERSION : pkg.version;
export const COMMIT: string = typeof A3S_COMMIT === "string" ? A3S_COMMIT : "dev";

export interface VersionInfo {
  version: string;
  commit: string;
  bun: string;
  platform: string;
  arch: string;
}

export function versionInfo(): VersionInfo {
  return {
    version: VERSION,
    commit: COMMIT,
    bun: Bun.version,
    platform: process.platform,
    arch: process.arch,
  };
}
