/**
 * The command tree as the completion generators see it. It is read through commander's public Help
 * API, so hidden commands and options stay out, and the built-in `-h, --help` option and `help`
 * subcommand appear exactly where commander accepts them.
 */
import { type Argument, type Command, Help, type Option } from "commander";

export interface FlagSpec {
  long?: string;
  short?: string;
  description: string;
  /** The next word is the option's value (commander consumes it for `<value>` and `[value]`). */
  takesValue: boolean;
  optionalValue: boolean;
  /** "dir" for "--home <dir>": zsh shows it while completing the value. */
  valueName: string;
}

export interface ArgSpec {
  name: string;
  required: boolean;
  variadic: boolean;
}

export interface CommandSpec {
  /** Names from the root down, e.g. ["a3s", "box", "image"]. */
  path: string[];
  name: string;
  aliases: string[];
  description: string;
  /**
   * Own options, then the ancestors' ones it does not shadow: commander parses an ancestor's options
   * wherever they appear after it (positional options are not enabled).
   */
  options: FlagSpec[];
  args: ArgSpec[];
  subcommands: CommandSpec[];
}

export function describeProgram(program: Command): CommandSpec {
  return describe(program, new Help(), [], []);
}

/** The command and all its descendants, parents before children, in declaration order. */
export function allCommands(spec: CommandSpec): CommandSpec[] {
  return [spec, ...spec.subcommands.flatMap(allCommands)];
}

export function flagNames(flag: FlagSpec): string[] {
  return [flag.short, flag.long].filter((name): name is string => name !== undefined);
}

/** A shell function-name fragment for a command name ("my-cmd" → "my_cmd"). */
export function identifier(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Single-quotes a word for bash and zsh, so no text from the tree can be expanded or end the string. */
export function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function describe(command: Command, help: Help, parentPath: string[], inherited: FlagSpec[]): CommandSpec {
  const path = [...parentPath, command.name()];
  const own = help.visibleOptions(command).map(flagSpec);
  const taken = new Set(own.flatMap(flagNames));
  const options = [...own, ...inherited.filter((flag) => !flagNames(flag).some((name) => taken.has(name)))];
  return {
    path,
    name: command.name(),
    aliases: command.aliases(),
    description: firstLine(command.summary() || command.description()),
    options,
    args: command.registeredArguments.map(argSpec),
    subcommands: help.visibleCommands(command).map((sub) => describe(sub, help, path, options)),
  };
}

function flagSpec(option: Option): FlagSpec {
  return {
    ...(option.long === undefined ? {} : { long: option.long }),
    ...(option.short === undefined ? {} : { short: option.short }),
    description: firstLine(option.description),
    takesValue: option.required || option.optional,
    optionalValue: option.optional,
    valueName: /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1]?.replace(/\.\.\.$/, "") ?? "value",
  };
}

function argSpec(argument: Argument): ArgSpec {
  return { name: argument.name(), required: argument.required, variadic: argument.variadic };
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0]?.trim() ?? "";
}
