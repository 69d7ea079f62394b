import { Command } from "commander";
import { addPending } from "../pending.ts";
import { createCommand } from "./create.ts";
import { cpCommand, listCommand, pullCommand, rmCommand, showCommand } from "./models.ts";
import { runCommand } from "./run.ts";
import { psCommand, serveCommand, stopCommand, usageCommand } from "./serve.ts";

export function powerCommand(): Command {
  const power = new Command("power")
    .description("Run local LLMs: pull models and serve Ollama/OpenAI APIs")
    .addCommand(pullCommand());
  addPending(power, "power", [{ name: "push", args: "<model>", description: "Push a model to a registry" }]);
  power.addCommand(listCommand()).addCommand(showCommand()).addCommand(rmCommand()).addCommand(cpCommand());
  return power
    .addCommand(createCommand())
    .addCommand(runCommand())
    .addCommand(psCommand())
    .addCommand(stopCommand())
    .addCommand(serveCommand())
    .addCommand(usageCommand());
}
