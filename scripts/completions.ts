#!/usr/bin/env bun
/**
 * Writes completions/ from the commander tree. `--check` writes nothing and fails naming the files that
 * are out of date, so CI catches a command added without regenerating its completions.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateCompletion, type Shell } from "../cli/completion/generate.ts";
import { buildProgram } from "../cli/main.ts";

const ROOT = join(import.meta.dir, "..");

/** Paths relative to the repository root; the Homebrew formula installs them under these names. */
export const COMPLETION_FILES: Readonly<Record<Shell, string>> = {
  bash: "completions/a3s.bash",
  zsh: "completions/_a3s",
  fish: "completions/a3s.fish",
};

export interface CompletionFile {
  path: string;
  text: string;
}

export function renderCompletions(): CompletionFile[] {
  const program = buildProgram();
  return Object.entries(COMPLETION_FILES).map(([shell, path]) => ({
    path,
    text: generateCompletion(shell as Shell, program),
  }));
}

/** The files whose content on disk differs from what the tree generates (missing ones included). */
export async function outdatedCompletions(root = ROOT): Promise<string[]> {
  const outdated: string[] = [];
  for (const file of renderCompletions()) {
    const current = await readFile(join(root, file.path), "utf8").catch(() => undefined);
    if (current !== file.text) outdated.push(file.path);
  }
  return outdated;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
  if (values.check) {
    const outdated = await outdatedCompletions();
    for (const path of outdated) process.stderr.write(`out of date: ${path}\n`);
    if (outdated.length > 0) process.stderr.write("run `bun scripts/completions.ts` to regenerate\n");
    return outdated.length > 0 ? 1 : 0;
  }
  await mkdir(join(ROOT, "completions"), { recursive: true });
  for (const file of renderCompletions()) {
    await writeFile(join(ROOT, file.path), file.text);
    process.stdout.write(`wrote ${file.path}\n`);
  }
  return 0;
}

if (import.meta.main) process.exit(await main());
