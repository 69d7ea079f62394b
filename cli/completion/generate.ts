/**
 * Shell completion scripts generated from the commander tree, so they can never list a command that
 * does not exist. The output is deterministic: the checked-in copies in completions/ are compared with it.
 */
import type { Command } from "commander";
import { bashScript } from "./bash.ts";
import { fishScript } from "./fish.ts";
import { describeProgram } from "./model.ts";
import { zshScript } from "./zsh.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

const GENERATORS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

export function generateCompletion(shell: Shell, program: Command): string {
  return GENERATORS[shell](describeProgram(program));
}

export function isShell(value: string): value is Shell {
  return (SHELLS as readonly string[]).includes(value);
}
