import { Command } from "commander";
import { notImplemented } from "../src/core/errors.ts";

// Placeholder until the doctor module lands (being written now).
export function doctorCommand(): Command {
  return new Command("doctor").description("Report what a3s can use on this machine").action(() => {
    throw notImplemented("doctor");
  });
}
