/**
 * Every command's --help is snapshotted, so a change to what users read is a deliberate one
 * (update with `bun test --update-snapshots tests/help.test.ts`).
 */
import { expect, test } from "bun:test";
import type { Command } from "commander";
import { buildProgram } from "../cli/main.ts";

function* walk(command: Command, path: string[] = []): Generator<[string, Command]> {
  yield [[...path, command.name()].join(" "), command];
  for (const sub of command.commands) yield* walk(sub, [...path, command.name()]);
}

const program = buildProgram();
for (const [path, command] of walk(program)) {
  test(`help: ${path}`, () => {
    expect(command.helpInformation({ error: false })).toMatchSnapshot();
  });
}
