/**
 * The binary starts with JavaScriptCore's tier-up thresholds scaled up (scripts/build.ts bakes in
 * SHORT_RUN_JIT_POLICY): most commands live for milliseconds, and optimising code that runs a few
 * hundred times costs them more CPU than it saves. Measured here: `box ps` 23.4 -> 19.9 ms and
 * 26 -> 17 ms of user CPU. A process that stays up (a server, a daemon, a supervisor, the TUI)
 * restores the normal policy once it is serving, so its hot paths still reach the optimising tiers.
 */

/** The scale the binary starts with; scripts/build.ts bakes it in. */
export const SHORT_RUN_JIT_POLICY = 10;

/**
 * A worker thread's VM starts at the normal policy whatever the binary was built with; a worker that
 * lives as long as the command that started it (the layer unpacker) applies the command's policy.
 * Measured on a cold `box pull` of 121 MiB: ~60 ms less CPU, ~25 ms less wall time.
 */
export function settleForShortRun(): void {
  Bun.unsafe.setJITPolicy(SHORT_RUN_JIT_POLICY);
}

export function settleForLongRun(): void {
  Bun.unsafe.setJITPolicy(1);
}
