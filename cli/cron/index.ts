import { Command } from "commander";
import { addPending } from "../pending.ts";

export function cronCommand(): Command {
  const cron = new Command("cron").description("Schedule jobs in cron syntax or plain English and Chinese");
  return addPending(cron, "cron", [
    {
      name: "parse",
      args: "<text>",
      description: "Translate a schedule into cron syntax and show the next runs",
    },
    { name: "add", args: "<schedule> [command...]", description: "Add a job" },
    { name: "ls", description: "List jobs with their next run" },
    { name: "show", args: "<job>", description: "Show a job" },
    { name: "edit", args: "<job>", description: "Change a job's schedule, command or options" },
    { name: "pause", args: "<job>", description: "Pause a job" },
    { name: "resume", args: "<job>", description: "Resume a paused job" },
    { name: "rm", args: "<job...>", description: "Remove jobs" },
    { name: "run", args: "<job>", description: "Run a job now and record it in history" },
    { name: "history", args: "[job]", description: "Show past runs" },
    { name: "logs", args: "<run>", description: "Print the output of a run" },
    { name: "next", args: "<job>", description: "Show a job's next run times" },
    { name: "daemon", description: "Run the scheduler (foreground, --detach, status, stop)" },
  ]);
}
