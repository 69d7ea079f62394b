#!/usr/bin/env bun
/**
 * The a3s multiplexer: builds the commander tree and runs it. Command groups live one per file;
 * their actions import the core lazily so `--version` and `--help` stay fast.
 */
import { Command, CommanderError, Help, Option } from "commander";
import { configureLog, type LogLevel } from "../src/core/log.ts";
import { VERSION } from "../src/core/version.ts";
import { boxCommand } from "./box/index.ts";
import { codeCommand } from "./code/index.ts";
import { completionCommand } from "./completion.ts";
import { configCommand } from "./config.ts";
import { createContext } from "./context.ts";
import { cronCommand } from "./cron/index.ts";
import { doctorCommand } from "./doctor.ts";
import { reportError } from "./errors.ts";
import { powerCommand } from "./power/index.ts";
import { searchCommand } from "./search/index.ts";
import { versionCommand } from "./version.ts";

export function buildProgram(): Command {
  const program = new Command("a3s")
    .description("Agent infrastructure in one binary: sandboxes, local LLMs, a coding agent, cron and search")
    .version(VERSION, "--version", "print the version number and exit")
    .option("--json", "print machine-readable JSON on stdout")
    .option("-q, --quiet", "print only essential output")
    .option("--no-color", "disable colours (NO_COLOR is honoured too)")
    .option("--home <dir>", "state directory (default: $A3S_HOME or ~/.a3s)")
    .option("-v, --verbose", "mirror debug logs to stderr")
    .addCommand(boxCommand())
    .addCommand(powerCommand())
    .addCommand(codeCommand())
    .addCommand(cronCommand())
    .addCommand(searchCommand())
    .addCommand(configCommand())
    .addCommand(versionCommand())
    .addCommand(doctorCommand())
    .addCommand(completionCommand(() => program));
  program.hook("preAction", async (_root, action) => {
    const { paths, options, out, env } = createContext(action);
    configureLog({
      dir: paths.logs,
      ...(options.verbose
        ? { mirror: (line: string) => out.stderr.write(line) }
        : { level: await configuredLogLevel(paths.config, env) }),
    });
  });
  applyEverywhere(program, [...program.options]);
  return program;
}

/**
 * log.level from the config (or A3S_LOG_LEVEL); a broken config is reported by the command itself.
 * The config module is imported here, not at the top: building its zod schema costs a few ms that
 * `--version` and `--help` (which run no action, so no hook) should not pay.
 */
async function configuredLogLevel(configPath: string, env: NodeJS.ProcessEnv): Promise<LogLevel> {
  const { loadConfig } = await import("../src/core/config.ts");
  try {
    return loadConfig(configPath, env).config.log.level;
  } catch {
    return "info";
  }
}

/**
 * Settings commander only copies to subcommands made with .command(); ours are added, so walk the
 * tree. Options are positional (a group's options come before its subcommand) so that `box run IMAGE
 * CMD -x` passes `-x` to CMD untouched, as Docker does; to keep `a3s box pull x --json` working, each
 * subcommand also accepts the global options itself (hidden from its help). Those are added as the
 * parse reaches a subcommand: cloning them onto all ~150 commands up front cost every start ~2 ms.
 */
function applyEverywhere(command: Command, globals: readonly Option[]): void {
  command
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ outputError: () => {} })
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false, subcommandTerm });
  if (command.commands.length > 0) {
    command.enablePositionalOptions();
    command.hook("preSubcommand", (_command, sub) => acceptGlobals(sub, globals));
  }
  for (const sub of command.commands) applyEverywhere(sub, globals);
}

/**
 * Commander lists a subcommand as `name [options] <args>` only if it has options when the help is
 * drawn; every subcommand accepts the global ones, added only once the parse reaches it.
 */
function subcommandTerm(this: Help, command: Command): string {
  const term = Help.prototype.subcommandTerm.call(this, command);
  // The implicit `help` command is not in the tree, so it never takes the global options.
  if (command.options.length > 0 || !command.parent?.commands.includes(command)) return term;
  const alias = command.aliases()[0];
  const name = alias === undefined ? command.name() : `${command.name()}|${alias}`;
  return `${name} [options]${term.slice(name.length)}`;
}

function acceptGlobals(command: Command, globals: readonly Option[]): void {
  for (const global of globals) {
    const taken = command.options.some(
      (o) => o.long === global.long || (global.short && o.short === global.short),
    );
    if (!taken) command.addOption(cloneHidden(global));
  }
}

function cloneHidden(option: Option): Option {
  const copy = new Option(option.flags, option.description).hideHelp();
  if (option.negate) copy.default(true);
  return copy;
}

const HELP_CODES = new Set(["commander.helpDisplayed", "commander.version", "commander.help"]);

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    // `a3s box` without a subcommand shows the group's help, as `docker image` does: not an error.
    if (err instanceof CommanderError && HELP_CODES.has(err.code)) return 0;
    return reportError(err, {
      json: argv.includes("--json"),
      stdout: process.stdout,
      stderr: process.stderr,
    });
  }
}

if (import.meta.main && process.env.TEST_BINDING_CP === "true" && process.send) {
  // node-llama-cpp's binary self-test forked this executable (see src/power/engine/binding-test.ts).
  const { runBindingSelfTest } = await import("../src/power/engine/binding-test.ts");
  await runBindingSelfTest();
} else if (import.meta.main) {
  const code = await main();
  // Keep-alive sockets and timers of library code must not hold the process open after the command.
  process.exit(code);
}
