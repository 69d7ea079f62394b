import { Command } from "commander";
import { notImplemented } from "../src/core/errors.ts";

// Placeholder until the completion generator lands (being written now).
export function completionCommand(_root: () => Command): Command {
  return new Command("completion").description("Print a shell completion script").argument("<shell>").action(() => {
    throw notImplemented("completion");
  });
}
