import { Command } from "commander";
import { A3sError } from "../src/core/errors.ts";
import { generateCompletion, isShell, SHELLS } from "./completion/generate.ts";

/** `root` is a thunk because this command is itself part of the tree it prints completions for. */
export function completionCommand(root: () => Command): Command {
  return new Command("completion")
    .description("Print a shell completion script")
    .argument("<shell>", SHELLS.join(", "))
    .addHelpText(
      "after",
      `
Load completions from your shell's startup file (Homebrew installs them for you):
  bash  source <(a3s completion bash)     in ~/.bashrc
  zsh   source <(a3s completion zsh)      in ~/.zshrc, after compinit
  fish  a3s completion fish | source      in ~/.config/fish/config.fish`,
    )
    .action((shell: string) => {
      if (!isShell(shell)) {
        throw new A3sError("usage", `unsupported shell '${shell}'; choose one of: ${SHELLS.join(", ")}`);
      }
      process.stdout.write(generateCompletion(shell, root()));
    });
}
