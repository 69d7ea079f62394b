import { Command } from "commander";
import { daemonCommand } from "./daemon.ts";
import {
  addCommand,
  editCommand,
  lsCommand,
  pauseCommand,
  resumeCommand,
  rmCommand,
  showCommand,
} from "./jobs.ts";
import { historyCommand, logsCommand, runCommand } from "./runs.ts";
import { nextCommand, parseCommand } from "./schedule.ts";

export function cronCommand(): Command {
  return new Command("cron")
    .description("Schedule jobs in cron syntax or plain English and Chinese")
    .addCommand(parseCommand())
    .addCommand(addCommand())
    .addCommand(lsCommand())
    .addCommand(showCommand())
    .addCommand(editCommand())
    .addCommand(pauseCommand())
    .addCommand(resumeCommand())
    .addCommand(rmCommand())
    .addCommand(runCommand())
    .addCommand(historyCommand())
    .addCommand(logsCommand())
    .addCommand(nextCommand())
    .addCommand(daemonCommand());
}
