import { Command } from "commander";
import { addPending } from "../pending.ts";
import { importCommand, loadCommand, saveCommand } from "./archive.ts";
import {
  imageCommand,
  imagesCommand,
  loginCommand,
  logoutCommand,
  pullCommand,
  rmiCommand,
  tagCommand,
} from "./images.ts";

export function boxCommand(): Command {
  const box = new Command("box")
    .description("Run sandboxes and microVMs from OCI images (Docker-compatible)")
    .addCommand(pullCommand())
    .addCommand(imagesCommand())
    .addCommand(rmiCommand())
    .addCommand(tagCommand())
    .addCommand(saveCommand())
    .addCommand(loadCommand())
    .addCommand(importCommand())
    .addCommand(imageCommand())
    .addCommand(loginCommand())
    .addCommand(logoutCommand());
  addPending(box, "box", [
    { name: "run", args: "<image> [command...]", description: "Create and start a box" },
    { name: "create", args: "<image> [command...]", description: "Create a box without starting it" },
    { name: "start", args: "<box...>", description: "Start stopped boxes" },
    { name: "ps", description: "List boxes" },
    { name: "exec", args: "<box> <command...>", description: "Run a command in a running box" },
    { name: "logs", args: "<box>", description: "Print a box's output" },
    { name: "stop", args: "<box...>", description: "Stop running boxes" },
    { name: "kill", args: "<box...>", description: "Send a signal to running boxes" },
    { name: "restart", args: "<box...>", description: "Restart boxes" },
    { name: "rm", args: "<box...>", description: "Remove boxes" },
    { name: "inspect", args: "<box...>", description: "Show low-level information on boxes" },
    { name: "wait", args: "<box...>", description: "Wait for boxes to stop and print their exit codes" },
    { name: "top", args: "<box>", description: "Show a box's processes" },
    { name: "stats", args: "[box...]", description: "Show resource usage" },
    { name: "cp", args: "<source> <destination>", description: "Copy files between a box and the host" },
    { name: "prune", description: "Remove all stopped boxes" },
    { name: "snapshot", description: "Create, restore and manage box snapshots" },
    { name: "pool", description: "Manage warm microVM snapshots" },
  ]);
  return box;
}
