import { Command } from "commander";
import { addPending } from "../pending.ts";

export function boxCommand(): Command {
  const box = new Command("box").description("Run sandboxes and microVMs from OCI images (Docker-compatible)");
  addPending(box, "box", [
    { name: "pull", args: "<image>", description: "Pull an image from a registry" },
    { name: "images", description: "List images" },
    { name: "rmi", args: "<image...>", description: "Remove images" },
    { name: "tag", args: "<source> <target>", description: "Create a tag that refers to an image" },
    { name: "save", args: "<image...>", description: "Save images to a tar archive" },
    { name: "load", description: "Load images from a tar archive" },
    { name: "import", args: "<file> [reference]", description: "Create an image from a rootfs tarball" },
    { name: "login", args: "[server]", description: "Log in to a registry" },
    { name: "logout", args: "[server]", description: "Log out from a registry" },
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
  const image = new Command("image").description("Manage images");
  addPending(image, "box image", [
    { name: "ls", description: "List images" },
    { name: "inspect", args: "<image...>", description: "Show an image's configuration as JSON" },
    { name: "prune", description: "Remove unused images" },
  ]);
  return box.addCommand(image);
}
