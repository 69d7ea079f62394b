import { Command } from "commander";
import { createCommand } from "./create.ts";
import { cpCommand, listCommand, pullCommand, pushCommand, rmCommand, showCommand } from "./models.ts";
import { runCommand } from "./run.ts";
import { psCommand, serveCommand, stopCommand, usageCommand } from "./serve.ts";

export function powerCommand(): Command {
  return new Command("power")
    .description("Run local LLMs: pull models and serve Ollama/OpenAI APIs")
    .addCommand(pullCommand())
    .addCommand(pushCommand())
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(rmCommand())
    .addCommand(cpCommand())
    .addCommand(createCommand())
    .addCommand(runCommand())
    .addCommand(psCommand())
    .addCommand(stopCommand())
    .addCommand(serveCommand())
    .addCommand(usageCommand());
}
