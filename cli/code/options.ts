/** The options `code chat` and `code run` share, and how they become openCodeSession's options. */
import { type Command, Option } from "commander";
import type { PermissionMode } from "../../src/code/types.ts";
import { A3sError } from "../../src/core/errors.ts";
import { collect } from "../options.ts";

export interface AgentFlags {
  model?: string;
  allow: string[];
  deny: string[];
  permissionMode?: PermissionMode;
  dangerouslySkipPermissions?: boolean;
  continue?: boolean;
  resume?: string;
  sandbox?: string;
  addDir: string[];
  maxRounds?: string;
}

export function addAgentOptions(command: Command): Command {
  return command
    .option(
      "-m, --model <provider/model>",
      "model to use, e.g. anthropic/claude-sonnet-4-5 or local/llama3.2:3b",
    )
    .option(
      "--allow <rule>",
      "allow a tool without asking, e.g. 'Bash(npm test:*)' (repeatable)",
      collect,
      [],
    )
    .option("--deny <rule>", "never allow a tool, e.g. 'Bash(rm:*)' (repeatable)", collect, [])
    .addOption(
      new Option("--permission-mode <mode>", "default, accept-edits, plan (read-only) or yolo").choices([
        "default",
        "accept-edits",
        "plan",
        "yolo",
      ]),
    )
    .option("--dangerously-skip-permissions", "run every tool without asking (mode yolo)")
    .option("-c, --continue", "continue the most recent session in this directory")
    .option("-r, --resume <session>", "resume a saved session by id or prefix")
    .option("--sandbox <image>", "run bash commands inside an a3s box of this image")
    .option("--add-dir <dir>", "let tools use this directory too (repeatable)", collect, [])
    .option("--max-rounds <n>", "model rounds one prompt may take (code.maxRounds)");
}

export function permissionModeOf(flags: AgentFlags): PermissionMode | undefined {
  if (flags.dangerouslySkipPermissions) return "yolo";
  return flags.permissionMode;
}

export function maxRoundsOf(flags: AgentFlags): number | undefined {
  if (flags.maxRounds === undefined) return undefined;
  const rounds = Number(flags.maxRounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new A3sError("usage", `invalid --max-rounds '${flags.maxRounds}': a positive integer`);
  }
  return rounds;
}

export function resumeOf(flags: AgentFlags): string | undefined {
  if (flags.continue && flags.resume)
    throw new A3sError("usage", "--continue and --resume cannot be combined");
  return flags.continue ? "latest" : flags.resume;
}
