/**
 * The binary starts with JavaScriptCore's tier-up thresholds scaled up (`JIT_POLICY` in
 * scripts/build.ts): most commands live for milliseconds, and optimising code that runs a few
 * hundred times costs them more CPU than it saves. A process that stays up (a server, a daemon, a
 * supervisor, the TUI) restores the normal policy once it is serving, so its hot paths still reach
 * the optimising tiers.
 */
export function settleForLongRun(): void {
  Bun.unsafe.setJITPolicy(1);
}
