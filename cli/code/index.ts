import { Command } from "commander";
import { chatCommand } from "./chat.ts";
import { mcpCommand } from "./mcp.ts";
import { modelsCommand } from "./models.ts";
import { runCommand } from "./run.ts";
import { sessionsCommand } from "./sessions.ts";

export function codeCommand(): Command {
  return new Command("code")
    .description("The coding agent: a terminal UI, or headless with JSON events")
    .addCommand(chatCommand(), { isDefault: true })
    .addCommand(runCommand())
    .addCommand(sessionsCommand())
    .addCommand(modelsCommand())
    .addCommand(mcpCommand());
}
