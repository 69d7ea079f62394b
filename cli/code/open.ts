/** Opens the agent for `code chat` and `code run`: config, first-run setup, then the session. */

import { type OpenedSession, openCodeSession } from "../../src/code/open.ts";
import { loadConfig } from "../../src/core/config.ts";
import { A3sError } from "../../src/core/errors.ts";
import type { CliContext } from "../context.ts";
import { type AgentFlags, maxRoundsOf, permissionModeOf, resumeOf } from "./options.ts";

export async function openAgent(
  ctx: CliContext,
  flags: AgentFlags,
  { interactive }: { interactive: boolean },
): Promise<OpenedSession> {
  let loaded = loadConfig(ctx.paths.config, ctx.env);
  const resume = resumeOf(flags);
  if (!flags.model && !loaded.config.code.model && resume === undefined) {
    if (!interactive) {
      throw new A3sError("usage", "no model configured for a3s code", {
        hint: "pass --model provider/model (e.g. anthropic/claude-sonnet-4-5), set A3S_CODE_MODEL, or run 'a3s code' once in a terminal",
      });
    }
    const { firstRunSetup } = await import("./setup.ts");
    await firstRunSetup(ctx);
    loaded = loadConfig(ctx.paths.config, ctx.env);
  }
  const mode = permissionModeOf(flags);
  const maxRounds = maxRoundsOf(flags);
  const opened = await openCodeSession({
    paths: ctx.paths,
    env: ctx.env,
    config: loaded.config,
    configPath: ctx.paths.config,
    cwd: process.cwd(),
    ...(flags.model ? { model: flags.model } : {}),
    ...(mode ? { mode } : {}),
    allow: flags.allow,
    deny: flags.deny,
    ...(resume ? { resume } : {}),
    ...(flags.sandbox ? { sandboxImage: flags.sandbox } : {}),
    addDirs: flags.addDir,
    ...(maxRounds ? { maxRounds } : {}),
  });
  for (const warning of opened.warnings) ctx.out.warn(warning);
  return opened;
}
