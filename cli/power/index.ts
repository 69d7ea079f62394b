import { Command } from "commander";
import { addPending } from "../pending.ts";
import { cpCommand, listCommand, pullCommand, rmCommand, showCommand } from "./models.ts";

export function powerCommand(): Command {
  const power = new Command("power")
    .description("Run local LLMs: pull models and serve Ollama/OpenAI APIs")
    .addCommand(pullCommand());
  addPending(power, "power", [{ name: "push", args: "<model>", description: "Push a model to a registry" }]);
  power.addCommand(listCommand()).addCommand(showCommand()).addCommand(rmCommand()).addCommand(cpCommand());
  return addPending(power, "power", [
    { name: "create", args: "<model>", description: "Create a model from a Modelfile" },
    { name: "run", args: "<model> [prompt...]", description: "Chat with a model, or answer one prompt" },
    { name: "ps", description: "List loaded models" },
    { name: "stop", args: "<model>", description: "Unload a running model" },
    { name: "serve", description: "Serve the Ollama- and OpenAI-compatible HTTP APIs" },
  ]);
}
