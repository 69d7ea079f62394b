/**
 * The completion scripts are checked against real shells: syntax with each shell's no-execute mode,
 * behaviour by running bash's completion function and fish's `complete -C` on typed command lines.
 * A missing shell fails the test with the package to install; skipping would hide a broken script.
 */
import { afterAll, expect, spyOn, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { COMPLETION_FILES, outdatedCompletions } from "../../scripts/completions.ts";
import { completionCommand } from "../completion.ts";
import { buildProgram } from "../main.ts";
import { generateCompletion, SHELLS, type Shell } from "./generate.ts";
import { quote } from "./model.ts";

const work = mkdtempSync(join(tmpdir(), "a3s-completion-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const scripts = Object.fromEntries(
  SHELLS.map((shell) => [shell, generateCompletion(shell, buildProgram())]),
) as Record<Shell, string>;

/** Debian/Ubuntu packages providing each shell, named in the failure so CI's package list can be fixed. */
const PACKAGES: Record<Shell, string> = { bash: "bash", zsh: "zsh", fish: "fish" };

function run(shell: Shell, args: string[], cwd = work): { stdout: string; stderr: string; exitCode: number } {
  if (Bun.which(shell) === null) {
    throw new Error(
      `${shell} is not installed; the completion tests need it: apt-get install -y ${PACKAGES[shell]}`,
    );
  }
  const result = Bun.spawnSync([shell, ...args], { cwd, env: { ...process.env, LC_ALL: "C" } });
  return { stdout: result.stdout.toString(), stderr: result.stderr.toString(), exitCode: result.exitCode };
}

function scriptFile(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

/** Runs the bash completion function as bash would for `words` (the last one is under the cursor). */
function bashComplete(script: string, words: string[]): string[] {
  const file = scriptFile("complete.bash", script);
  const body = `source ${quote(file)}
COMP_WORDS=(${words.map(quote).join(" ")})
COMP_CWORD=${words.length - 1}
_a3s
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = run("bash", ["--norc", "--noprofile", "-c", body]);
  expect(result.stderr).toBe("");
  return result.stdout.split("\n").filter((line) => line !== "");
}

/** Fish's own completion of `line`, as "candidate\tdescription" lines. */
function fishComplete(script: string, line: string, cwd = work): string[] {
  const file = scriptFile("complete.fish", script);
  const result = run("fish", ["--no-config", "-c", `source ${quote(file)}; complete -C ${quote(line)}`], cwd);
  expect(result.stderr).toBe("");
  return result.stdout.split("\n").filter((entry) => entry !== "");
}

function names(candidates: string[]): string[] {
  return candidates.map((candidate) => candidate.split("\t")[0]!);
}

/** A small tree with what the real one lacks today: an alias, a hidden command, a quote in a description. */
function sampleProgram(): Command {
  const program = new Command("a3s").option("--home <dir>", "state directory");
  const box = program.command("box").description("Run boxes");
  box
    .command("remove")
    .alias("rm")
    .description("Remove a box")
    .argument("<box...>")
    .option("-f, --force", "don't ask");
  program.command("secret", { hidden: true }).description("Not for users");
  return program;
}

test("completions/ matches what the command tree generates", async () => {
  const outdated = await outdatedCompletions();
  if (outdated.length > 0) {
    throw new Error(
      `out of date: ${outdated.join(", ")}; run \`bun scripts/completions.ts\` and commit the result`,
    );
  }
  expect(Object.values(COMPLETION_FILES).sort()).toEqual([
    "completions/_a3s",
    "completions/a3s.bash",
    "completions/a3s.fish",
  ]);
});

test("generation is deterministic", () => {
  for (const shell of SHELLS) expect(generateCompletion(shell, buildProgram())).toBe(scripts[shell]);
});

test("hidden commands are left out of every shell's script", () => {
  for (const shell of SHELLS) {
    const script = generateCompletion(shell, sampleProgram());
    expect(script).not.toContain("secret");
    expect(script).toContain("remove");
  }
});

test("bash: the scripts parse (bash -n)", () => {
  for (const [name, script] of [
    ["a3s.bash", scripts.bash],
    ["sample.bash", generateCompletion("bash", sampleProgram())],
  ] as const) {
    const result = run("bash", ["-n", scriptFile(name, script)]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  }
});

test("zsh: the scripts parse (zsh -n)", () => {
  for (const [name, script] of [
    ["_a3s", scripts.zsh],
    ["_sample", generateCompletion("zsh", sampleProgram())],
  ] as const) {
    const result = run("zsh", ["-n", scriptFile(name, script)]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  }
});

test("fish: the scripts parse (fish --no-execute)", () => {
  for (const [name, script] of [
    ["a3s.fish", scripts.fish],
    ["sample.fish", generateCompletion("fish", sampleProgram())],
  ] as const) {
    const result = run("fish", ["--no-execute", scriptFile(name, script)]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  }
});

/** Subcommand names of `a3s box image` as the live tree has them, so these tests follow the tree. */
const imageSubcommands = () =>
  buildProgram()
    .commands.find((c) => c.name() === "box")!
    .commands.find((c) => c.name() === "image")!
    .commands.map((c) => c.name());

test("bash: completes subcommands at any depth and options", () => {
  const boxNames = buildProgram()
    .commands.find((c) => c.name() === "box")!
    .commands.map((c) => c.name());
  expect(bashComplete(scripts.bash, ["a3s", "box", "im"])).toEqual(
    boxNames.filter((n) => n.startsWith("im")),
  );
  expect(bashComplete(scripts.bash, ["a3s", "box", "image", ""])).toEqual([...imageSubcommands(), "help"]);
  expect(bashComplete(scripts.bash, ["a3s", "--js"])).toEqual(["--json"]);
  // Global options are accepted after subcommands, next to the command's own.
  expect(bashComplete(scripts.bash, ["a3s", "search", "--s"])).toEqual(["--safe"]);
  expect(bashComplete(scripts.bash, ["a3s", "box", "image", "ls", "--ve"])).toEqual([
    "--version",
    "--verbose",
  ]);
});

test("bash: skips option values and leaves values and arguments to filename completion", () => {
  // "box" is the value of --home here, not the box command.
  expect(bashComplete(scripts.bash, ["a3s", "--home", "box", ""])).toContain("power");
  expect(bashComplete(scripts.bash, ["a3s", "--home", "=", "/tmp", "box", ""])).toContain("image");
  expect(bashComplete(scripts.bash, ["a3s", "--home", ""])).toEqual([]);
  expect(bashComplete(scripts.bash, ["a3s", "box", "pull", ""])).toEqual([]);
});

test("bash: follows aliases", () => {
  const sample = generateCompletion("bash", sampleProgram());
  expect(bashComplete(sample, ["a3s", "box", "rm", "-"])).toEqual([
    "-f",
    "--force",
    "-h",
    "--help",
    "--home",
  ]);
  expect(bashComplete(sample, ["a3s", ""])).toEqual(["box", "help"]);
});

test("zsh: registers with compdef when sourced and with #compdef when autoloaded", () => {
  const file = scriptFile("_a3s", scripts.zsh);
  const sourced = run("zsh", [
    "-f",
    "-c",
    `autoload -Uz compinit && compinit -u -D && source ${file}; print -r -- $_comps[a3s]`,
  ]);
  expect(sourced.stderr).toBe("");
  expect(sourced.stdout).toBe("_a3s\n");
  const fpath = join(work, "site-functions");
  mkdirSync(fpath, { recursive: true });
  writeFileSync(join(fpath, "_a3s"), scripts.zsh);
  const autoloaded = run("zsh", [
    "-f",
    "-c",
    `fpath=(${fpath} $fpath); autoload -Uz compinit && compinit -u -D; print -r -- $_comps[a3s]`,
  ]);
  expect(autoloaded.stderr).toBe("");
  expect(autoloaded.stdout).toBe("_a3s\n");
});

test("zsh: subcommands carry their descriptions", () => {
  expect(scripts.zsh).toStartWith("#compdef a3s\n");
  expect(scripts.zsh).toContain("'image:Manage images'");
  expect(scripts.zsh).toContain("'--home=[state directory (default: $A3S_HOME or ~/.a3s)]:dir:_files'");
});

test("fish: completes nested subcommands with descriptions", () => {
  expect(fishComplete(scripts.fish, "a3s box im")).toContain("image\tManage images");
  expect(fishComplete(scripts.fish, "a3s box im")).toContain("images\tList images");
  expect(names(fishComplete(scripts.fish, "a3s box image "))).toEqual([...imageSubcommands(), "help"].sort());
  // `ls` exists under both cron and box image: only the path decides.
  expect(fishComplete(scripts.fish, "a3s cron ls ")).toEqual([]);
  expect(fishComplete(scripts.fish, "a3s --js")).toEqual(["--json\tprint machine-readable JSON on stdout"]);
  expect(names(fishComplete(scripts.fish, "a3s search --s"))).toEqual(["--safe"]);
});

test("fish: skips option values, follows aliases and completes filenames for values and arguments", () => {
  const files = join(work, "files");
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, "marker.txt"), "");
  expect(names(fishComplete(scripts.fish, "a3s --home box "))).toContain("power");
  expect(fishComplete(scripts.fish, "a3s --home ", files)).toEqual(["marker.txt"]);
  expect(fishComplete(scripts.fish, "a3s box pull ", files)).toEqual(["marker.txt"]);
  expect(fishComplete(scripts.fish, "a3s version ", files)).toEqual([]);
  const sample = generateCompletion("fish", sampleProgram());
  expect(fishComplete(sample, "a3s box rm --f")).toEqual(["--force\tdon't ask"]);
});

test("`a3s completion <shell>` prints the script and rejects other shells", async () => {
  const program = new Command("a3s");
  program.addCommand(completionCommand(() => program));
  const written: string[] = [];
  const write = spyOn(process.stdout, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(["completion", "fish"], { from: "user" });
  } finally {
    write.mockRestore();
  }
  expect(written.join("")).toBe(generateCompletion("fish", program));
  expect(written.join("")).toContain("-a 'completion' -d 'Print a shell completion script'");
  await expect(program.parseAsync(["completion", "tcsh"], { from: "user" })).rejects.toMatchObject({
    name: "A3sError",
    code: "usage",
    message: "unsupported shell 'tcsh'; choose one of: bash, zsh, fish",
  });
});
