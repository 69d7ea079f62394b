import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ConfigSchema } from "../../core/config.ts";
import { pathsFor } from "../../core/paths.ts";
import { openCronContext } from "../../cron/context.ts";
import { cronTool } from "./cron.ts";
import { tempDir, toolContext } from "./testing.ts";

const workspace = tempDir();
const home = pathsFor(join(tempDir(), ".a3s"));
const ctx = toolContext(workspace, {
  home: { paths: home, config: ConfigSchema.parse({}) },
  env: { ...process.env, A3S_HOME: home.home, TZ: "UTC" },
});
const cron = (input: Record<string, unknown>) => cronTool.run(cronTool.input.parse(input), ctx);

describe("cron", () => {
  test("add stores a job in A3S_HOME that runs in the workspace, from plain words", async () => {
    const result = await cron({
      action: "add",
      schedule: "every weekday at 9am",
      command: "npm test",
      name: "nightly-tests",
    });
    expect(result.isError).toBeUndefined();
    expect(result.content).toMatch(
      /^Added job nightly-tests \([0-9a-f]{12}\): 0 9 \* \* 1-5 = .+; next run .+; runs: npm test\n/,
    );
    expect(result.content).toContain("The cron daemon is not running");
    const stored = openCronContext(home, ctx.env);
    try {
      const job = stored.jobs.resolve("nightly-tests");
      expect(job.workdir).toBe(workspace);
      expect(job.command).toBe("npm test");
      expect(job.expression).toBe("0 9 * * 1-5");
    } finally {
      stored.db.close();
    }
  });

  test("list, pause, resume and remove by name", async () => {
    await cron({ action: "add", schedule: "*/15 * * * *", command: "./sync.sh", name: "sync" });
    expect((await cron({ action: "list" })).content.split("\n")).toHaveLength(2);
    expect((await cron({ action: "pause", job: "sync" })).content).toContain("sync (");
    expect((await cron({ action: "list" })).content).toMatch(/sync \(.*paused; runs: \.\/sync\.sh/);
    expect((await cron({ action: "resume", job: "sync" })).content).toMatch(/next run/);
    expect((await cron({ action: "remove", job: "sync" })).content).toBe("Removed job sync and its history.");
    expect((await cron({ action: "list" })).content).not.toContain("sync");
  });

  test("history is empty before any run; missing fields and jobs are clear errors", async () => {
    expect((await cron({ action: "history", job: "nightly-tests" })).content).toBe("No runs yet.");
    expect((await cron({ action: "add", command: "x" })).content).toBe("add needs a schedule");
    expect((await cron({ action: "remove" })).content).toBe("remove needs a job name or id");
    const missing = await cron({ action: "pause", job: "nope" });
    expect(missing.isError).toBe(true);
    expect(missing.content).toContain("no such job: nope");
    expect((await cron({ action: "add", schedule: "whenever you like", command: "x" })).isError).toBe(true);
  });

  test("the permission subject carries the command for add", () => {
    expect(
      cronTool.ruleSubject(cronTool.input.parse({ action: "add", schedule: "x", command: "npm test" }), ctx),
    ).toBe("add npm test");
    expect(cronTool.ruleSubject(cronTool.input.parse({ action: "list" }), ctx)).toBe("list");
    expect(cronTool.readOnly).toBe(false);
  });
});
