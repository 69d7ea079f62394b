/**
 * The cron tool: the model schedules, lists and manages a3s cron jobs through the cron core, as
 * `a3s cron` does. Jobs run later without anyone watching, so the tool is never read-only. The cron
 * core is loaded on first use: most sessions never schedule anything.
 */
import { z } from "zod";
import { defineTool } from "./tool.ts";

const input = z.object({
  action: z
    .enum(["add", "list", "remove", "pause", "resume", "history"])
    .describe("add a job, list jobs, remove/pause/resume a job, or show a job's (or all) past runs"),
  schedule: z
    .string()
    .optional()
    .describe(
      "add: when to run, as cron ('0 9 * * 1-5') or plain words ('every weekday at 9am', 'every 15 minutes')",
    ),
  command: z.string().optional().describe("add: the shell command to run (in the workspace directory)"),
  name: z.string().optional().describe("add: a name for the job (default: a generated one)"),
  box_image: z.string().optional().describe("add: run the command inside a throwaway a3s box of this image"),
  job: z.string().optional().describe("remove/pause/resume/history: the job's name or id"),
  limit: z.number().int().min(1).max(100).default(10).describe("history: how many runs to show"),
});

export type CronInput = z.infer<typeof input>;

const DESCRIPTION = `Manages scheduled jobs of a3s cron: shell commands run on a schedule by the a3s cron daemon, with their history kept.

- add needs schedule and command; the job runs in the workspace directory. Schedules: cron expressions or plain words ("every day at 2am", "every monday 9:30", "every 10 minutes").
- list shows every job with its next run; history shows past runs with status and exit code.
- remove, pause and resume take the job's name or id.
- Jobs only run while the daemon runs ("a3s cron daemon --detach"); add tells you whether it is running.`;

export const cronTool = defineTool<CronInput>({
  name: "cron",
  ruleName: "Cron",
  description: DESCRIPTION,
  input,
  readOnly: false,
  // "add <command>" so rules can allow scheduling some commands ("Cron(add npm test:*)"), or the action.
  ruleSubject: (value) => (value.action === "add" ? `add ${value.command ?? ""}`.trim() : value.action),
  async run(value, ctx) {
    const { runCronAction } = await import("./cron-actions.ts");
    return runCronAction(value, ctx);
  },
});
