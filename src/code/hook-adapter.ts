/** HookRunner's outcomes in the shape the agent loop asks for. */

import { logger } from "../core/log.ts";
import type { LoopHooks } from "./agent/loop.ts";
import type { HookRunner } from "./hooks.ts";

const log = logger("code");

export function hookAdapter(runner: HookRunner): LoopHooks {
  const report = (event: string, outcome: { errors: { command: string; message: string }[] }) => {
    for (const problem of outcome.errors) log.warn(`${event} hook '${problem.command}': ${problem.message}`);
  };
  return {
    async userPromptSubmit(prompt) {
      if (!runner.has("UserPromptSubmit")) return {};
      const outcome = await runner.userPromptSubmit(prompt);
      report("UserPromptSubmit", outcome);
      return {
        ...(outcome.blocked === undefined ? {} : { blocked: outcome.blocked }),
        ...(outcome.additionalContext === undefined ? {} : { context: outcome.additionalContext }),
      };
    },
    async preToolUse(name, input) {
      if (!runner.has("PreToolUse")) return {};
      const outcome = await runner.preToolUse(name, input);
      report("PreToolUse", outcome);
      if (outcome.decision === "deny") return { blocked: outcome.reason ?? "denied" };
      return {
        ...(outcome.decision === undefined
          ? {}
          : {
              decision: {
                behavior: outcome.decision,
                reason: `PreToolUse hook: ${outcome.reason ?? outcome.decision}`,
              },
            }),
        ...(outcome.updatedInput === undefined ? {} : { updatedInput: outcome.updatedInput }),
      };
    },
    async postToolUse(name, input, result) {
      if (!runner.has("PostToolUse")) return undefined;
      const outcome = await runner.postToolUse(name, input, result);
      report("PostToolUse", outcome);
      return outcome.feedback ?? outcome.additionalContext;
    },
    async stop(alreadyContinuing) {
      if (!runner.has("Stop")) return undefined;
      const outcome = await runner.stop(alreadyContinuing);
      report("Stop", outcome);
      return outcome.continueWith;
    },
  };
}
