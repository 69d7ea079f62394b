import { Command } from "commander";
import { addPending } from "../pending.ts";

export function codeCommand(): Command {
  const code = new Command("code").description(
    "The coding agent: a terminal UI, or headless with JSON events",
  );
  return addPending(code, "code", [
    { name: "chat", description: "Open the interactive terminal UI (the default)" },
    {
      name: "run",
      args: "<task...>",
      description: "Run a task headless and print the result or JSON events",
    },
    { name: "sessions", description: "List, show or delete saved sessions" },
    { name: "models", description: "List the configured providers and models" },
    { name: "mcp", description: "Manage MCP servers" },
  ]);
}
