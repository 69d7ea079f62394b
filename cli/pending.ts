/**
 * Commands whose subsystem is not built yet: they appear in help with their real shape and answer
 * with an `unimplemented` error (its own exit code), never with a fake success.
 */
import { Command } from "commander";
import { notImplemented } from "../src/core/errors.ts";

export interface PendingSpec {
  name: string;
  description: string;
  /** Commander argument syntax, e.g. "<image> [command...]". */
  args?: string;
}

export function pendingCommand(group: string, spec: PendingSpec): Command {
  const command = new Command(spec.name)
    .description(spec.description)
    .allowUnknownOption()
    .allowExcessArguments();
  if (spec.args) command.arguments(spec.args);
  return command.action(() => {
    throw notImplemented(`${group} ${spec.name}`);
  });
}

export function addPending(parent: Command, group: string, specs: readonly PendingSpec[]): Command {
  for (const spec of specs) parent.addCommand(pendingCommand(group, spec));
  return parent;
}
