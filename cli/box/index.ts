import { Command } from "commander";
import { importCommand, loadCommand, saveCommand } from "./archive.ts";
import { cpCommand, execCommand, statsCommand, topCommand } from "./exec.ts";
import {
  imageCommand,
  imagesCommand,
  loginCommand,
  logoutCommand,
  pullCommand,
  rmiCommand,
  tagCommand,
} from "./images.ts";
import {
  inspectCommand,
  killCommand,
  logsCommand,
  pruneCommand,
  psCommand,
  restartCommand,
  rmCommand,
  stopCommand,
  waitCommand,
} from "./manage.ts";
import { poolCommand } from "./pool.ts";
import { createCommand, forwardHelperCommand, runCommand, startCommand, superviseCommand } from "./run.ts";
import { snapshotCommand } from "./snapshot.ts";

export function boxCommand(): Command {
  const box = new Command("box")
    .enablePositionalOptions()
    .description("Run sandboxes and microVMs from OCI images (Docker-compatible)")
    .addCommand(runCommand())
    .addCommand(createCommand())
    .addCommand(startCommand())
    .addCommand(psCommand())
    .addCommand(execCommand())
    .addCommand(logsCommand())
    .addCommand(stopCommand())
    .addCommand(killCommand())
    .addCommand(restartCommand())
    .addCommand(rmCommand())
    .addCommand(inspectCommand())
    .addCommand(waitCommand())
    .addCommand(topCommand())
    .addCommand(statsCommand())
    .addCommand(cpCommand())
    .addCommand(pruneCommand())
    .addCommand(snapshotCommand())
    .addCommand(poolCommand())
    .addCommand(pullCommand())
    .addCommand(imagesCommand())
    .addCommand(rmiCommand())
    .addCommand(tagCommand())
    .addCommand(saveCommand())
    .addCommand(loadCommand())
    .addCommand(importCommand())
    .addCommand(imageCommand())
    .addCommand(loginCommand())
    .addCommand(logoutCommand())
    .addCommand(superviseCommand(), { hidden: true })
    .addCommand(forwardHelperCommand(), { hidden: true });
  return box;
}
