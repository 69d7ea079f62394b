import { Command } from "commander";
import { addPending } from "../pending.ts";

export function powerCommand(): Command {
  const power = new Command("power").description("Run local LLMs: pull models and serve Ollama/OpenAI APIs");
  return addPending(power, "power", [
    { name: "pull", args: "<model>", description: "Pull a model from the Ollama registry" },
    { name: "push", args: "<model>", description: "Push a model to a registry" },
    { name: "list", description: "List local models" },
    { name: "show", args: "<model>", description: "Show a model's parameters, template and metadata" },
    { name: "rm", args: "<model...>", description: "Remove models" },
    { name: "cp", args: "<source> <destination>", description: "Copy a model to a new name" },
    { name: "create", args: "<model>", description: "Create a model from a Modelfile" },
    { name: "run", args: "<model> [prompt...]", description: "Chat with a model, or answer one prompt" },
    { name: "ps", description: "List loaded models" },
    { name: "stop", args: "<model>", description: "Unload a running model" },
    { name: "serve", description: "Serve the Ollama- and OpenAI-compatible HTTP APIs" },
  ]);
}
