/**
 * cron through the compiled binary: jobs and history in an isolated A3S_HOME, the real daemon with
 * a job every second, kill -9 and restart without losing a job or running a due time twice, and a
 * job run inside a real box.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Run, RunWithOutput } from "../../src/cron/runs.ts";
import type { Job } from "../../src/cron/store.ts";
import { busyboxLayer, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, BINARY, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

const spawned: Array<ReturnType<typeof Bun.spawn>> = [];
afterAll(() => {
  for (const child of spawned) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Polls until `check` returns a value (real processes, real time), failing after `ms`. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/** A foreground daemon, as `a3s cron daemon` runs in a terminal: its log goes to stderr. */
function startDaemon(home: string): ReturnType<typeof Bun.spawn> {
  const child = Bun.spawn([BINARY, "cron", "daemon"], {
    env: { ...process.env, A3S_HOME: home },
    stdout: "ignore",
    stderr: "pipe",
  });
  spawned.push(child);
  return child;
}

async function history(home: string, job?: string): Promise<Run[]> {
  const args = ["cron", "history", "--limit", "10000", "--json"];
  if (job) args.push(job);
  return expectExit(await a3s(args, { home }), 0).json<Run[]>();
}

describe("jobs", () => {
  test("parse prints the expression, a description and the next runs", async () => {
    const result = expectExit(
      await a3s(["cron", "parse", "工作日上午9点", "--tz", "Asia/Shanghai", "--json"]),
      0,
    );
    const parsed = result.json<{
      expression: string;
      description: string;
      timezone: string;
      next: string[];
    }>();
    expect(parsed.expression).toBe("0 9 * * 1-5");
    expect(parsed.description).toBe("At 09:00, Monday through Friday");
    expect(parsed.next).toHaveLength(5);
    for (const time of parsed.next) expect(new Date(time).getUTCHours()).toBe(1); // 09:00 in UTC+8
    const bad = expectExit(await a3s(["cron", "parse", "every blue moon"]), 2);
    expect(bad.stderr).toContain("error: cannot read the schedule 'every blue moon'");
    expect(bad.stderr).toContain("hint: examples:");
  });

  test("add, ls, show, edit, pause, resume, run, history, logs, rm", async () => {
    const home = tempHome();
    const work = mkdtempSync(join(tmpdir(), "a3s-cron-e2e-"));
    const added = expectExit(
      await a3s(
        [
          "cron",
          "add",
          "every weekday at 9am",
          "--name",
          "report",
          "-e",
          "WHO=cron",
          "-w",
          work,
          "--retries",
          "1",
          "--json",
          "--",
          "echo hello $WHO; pwd; echo warn >&2",
        ],
        { home },
      ),
      0,
    ).json<Job>();
    expect(added).toMatchObject({
      name: "report",
      schedule: "every weekday at 9am",
      expression: "0 9 * * 1-5",
      kind: "shell",
      workdir: work,
      env: { WHO: "cron" },
      retries: 1,
      overlap: "skip",
      enabled: true,
    });
    const listed = expectExit(await a3s(["cron", "ls", "--json"], { home }), 0).json<Job[]>();
    expect(listed.map((j) => j.name)).toEqual(["report"]);
    expect(Date.parse(listed[0]?.nextRunAt ?? "")).toBeGreaterThan(Date.now());
    const table = expectExit(await a3s(["cron", "ls"], { home }), 0).stdout;
    expect(table.split("\n")[0]).toMatch(
      /^ID\s+NAME\s+SCHEDULE\s+EXPRESSION\s+NEXT RUN\s+LAST\s+STATUS\s+COMMAND$/,
    );

    const edited = expectExit(
      await a3s(["cron", "edit", "report", "--schedule", "*/30 * * * *", "--timeout", "1m", "--json"], {
        home,
      }),
      0,
    ).json<Job>();
    expect(edited).toMatchObject({ expression: "*/30 * * * *", timeoutMs: 60_000, schedule: "*/30 * * * *" });

    expect(expectExit(await a3s(["cron", "pause", "report", "--json"], { home }), 0).json()).toEqual([
      { id: added.id, name: "report" },
    ]);
    expect(
      expectExit(await a3s(["cron", "show", added.id.slice(0, 4), "--json"], { home }), 0).json<Job>()
        .enabled,
    ).toBe(false);
    expectExit(await a3s(["cron", "resume", "report"], { home }), 0);

    const run = expectExit(await a3s(["cron", "run", "report"], { home }), 0);
    expect(run.stdout).toBe(`hello cron\n${work}\n`);
    expect(run.stderr).toContain("warn\n");
    const runs = await history(home, "report");
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      trigger: "manual",
      status: "success",
      exitCode: 0,
      attempts: 1,
      scheduledFor: null,
    });
    const logs = expectExit(
      await a3s(["cron", "logs", String(runs[0]?.id), "--json"], { home }),
      0,
    ).json<RunWithOutput>();
    expect(logs.stdout).toBe(`hello cron\n${work}\n`);
    expect(logs.stderr).toBe("warn\n");

    const shown = expectExit(await a3s(["cron", "show", "report", "--json"], { home }), 0).json<
      Job & { description: string }
    >();
    expect(shown).toMatchObject({
      runCount: 1,
      successCount: 1,
      lastStatus: "success",
      description: "Every 30 minutes",
    });
    const next = expectExit(await a3s(["cron", "next", "report", "-n", "3", "--json"], { home }), 0).json<{
      next: string[];
    }>();
    expect(next.next.map((t) => new Date(t).getUTCMinutes() % 30)).toEqual([0, 0, 0]);

    expectExit(await a3s(["cron", "rm", "report"], { home }), 0);
    expect(expectExit(await a3s(["cron", "ls", "--json"], { home }), 0).json()).toEqual([]);
    expect(expectExit(await a3s(["cron", "show", "report"], { home }), 3).stderr).toContain(
      "no such job: report",
    );
  });

  test("a failing job: run exits with its status; history filters by status", async () => {
    const home = tempHome();
    expectExit(await a3s(["cron", "add", "@daily", "--name", "broken", "--", "exit 5"], { home }), 0);
    expectExit(await a3s(["cron", "run", "broken"], { home }), 5);
    expectExit(
      await a3s(["cron", "add", "@daily", "--name", "slow", "--timeout", "200ms", "--", "sleep 30"], {
        home,
      }),
      0,
    );
    expectExit(await a3s(["cron", "run", "slow"], { home }), 124);
    const failed = await a3s(["cron", "history", "--status", "failed", "--json"], { home });
    expect(
      expectExit(failed, 0)
        .json<Run[]>()
        .map((r) => r.jobName),
    ).toEqual(["broken"]);
    const timedOut = (await history(home, "slow"))[0];
    expect(timedOut).toMatchObject({ status: "timeout", signal: "SIGTERM" });
  });

  test("--agent jobs cannot also be --box jobs, and need a prompt (the agent itself: tests/e2e/code.test.ts)", async () => {
    const home = tempHome();
    const both = expectExit(
      await a3s(["cron", "add", "daily", "--agent", "summarize", "--box", "alpine", "--json"], { home }),
      2,
    );
    expect(both.json<{ error: { message: string } }>().error.message).toContain("cannot be combined");
    expectExit(await a3s(["cron", "add", "daily", "--agent", " ", "--json"], { home }), 2);
    expect(expectExit(await a3s(["cron", "ls", "--json"], { home }), 0).json()).toEqual([]);
  });
});

describe("daemon", () => {
  test("runs a job every second, survives kill -9 without losing a job or running a due time twice", async () => {
    await ensureBuilt();
    const home = tempHome();
    const work = mkdtempSync(join(tmpdir(), "a3s-cron-daemon-"));
    const out = join(work, "ticks");
    expectExit(
      await a3s(
        [
          "cron",
          "add",
          "* * * * * *",
          "--name",
          "tick",
          "-w",
          work,
          "--",
          `echo "$A3S_CRON_SCHEDULED_FOR" >> ${out}`,
        ],
        { home },
      ),
      0,
    );
    expectExit(await a3s(["cron", "add", "@yearly", "--name", "idle", "--", "true"], { home }), 0);

    const first = startDaemon(home);
    await eventually("three runs", async () =>
      (await history(home, "tick")).filter((r) => r.status === "success").length >= 3 ? true : undefined,
    );
    const status = expectExit(await a3s(["cron", "daemon", "status", "--json"], { home }), 0).json<{
      running: boolean;
      pid: number;
    }>();
    expect(status).toMatchObject({ running: true, pid: first.pid });

    // A second daemon on the same home refuses to start.
    const second = expectExit(await a3s(["cron", "daemon"], { home }), 4);
    expect(second.stderr).toContain(`a cron daemon is already running (pid ${first.pid})`);

    first.kill("SIGKILL");
    await first.exited;
    const killedAt = Date.now();
    await Bun.sleep(2_500); // due times pass while no daemon runs

    const restarted = expectExit(await a3s(["cron", "daemon", "--detach", "--json"], { home }), 0).json<{
      pid: number;
    }>();
    await eventually("runs after the restart", async () => {
      const after = (await history(home, "tick")).filter(
        (r) => r.status === "success" && Date.parse(r.scheduledFor ?? "") > killedAt + 2_500,
      );
      return after.length >= 3 ? true : undefined;
    });
    const stopped = expectExit(await a3s(["cron", "daemon", "stop", "--json"], { home }), 0).json();
    expect(stopped).toEqual({ stopped: true, pid: restarted.pid });

    const jobs = expectExit(await a3s(["cron", "ls", "--json"], { home }), 0).json<Job[]>();
    expect(jobs.map((j) => j.name)).toEqual(["tick", "idle"]);
    const runs = await history(home, "tick");
    const slots = runs.map((r) => r.scheduledFor);
    expect(new Set(slots).size).toBe(slots.length); // every due time has one record
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(new Set(lines).size).toBe(lines.length); // and ran at most once
    // The file is the jobs' own account of what ran: it matches the runs recorded as started.
    const started = runs.filter((r) => r.status === "success" || r.reason?.startsWith("interrupted"));
    expect(new Set(lines)).toEqual(new Set(started.map((r) => r.scheduledFor ?? "")));
    // Due times while no daemon ran are in history as skipped (catch-up none), not lost, not run.
    const missed = runs.filter((r) => r.status === "skipped");
    expect(missed.length).toBeGreaterThanOrEqual(1);
    for (const run of missed) expect(run.reason).toContain("missed: the scheduler was not running");
    expect(runs.filter((r) => r.status === "queued" || r.status === "running")).toEqual([]);
    expect(runs.every((r) => r.status !== "failed" || r.reason?.startsWith("interrupted"))).toBe(true);
  }, 60_000);

  test("a foreground daemon logs to stderr and stops cleanly on SIGTERM", async () => {
    const home = tempHome();
    expectExit(await a3s(["cron", "add", "* * * * * *", "--name", "say", "--", "echo said"], { home }), 0);
    const daemon = startDaemon(home);
    await eventually("a run", async () =>
      (await history(home)).some((r) => r.status === "success") ? true : undefined,
    );
    daemon.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
    const log = await new Response(daemon.stderr as ReadableStream).text();
    expect(log).toContain("cron daemon started");
    expect(log).toMatch(/say: run \d+ success in \d+ ms, exit 0/);
    expect(log).toContain("cron daemon stopped");
    expect(expectExit(await a3s(["cron", "daemon", "status", "--json"], { home }), 3).json()).toMatchObject({
      running: false,
    });
  });
});

describe("box jobs", () => {
  let registry: Registry | undefined;
  afterAll(async () => {
    await registry?.stop();
  });

  test("--box runs the command inside a3s box run --rm", async () => {
    if (process.getuid?.() !== 0) throw new Error("box jobs need root (crun, overlayfs); CI runs as root");
    [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
    await pushImage(registry, "e2e/cron", "1", {
      layers: [busyboxLayer()],
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    });
    const image = `${registry.host}/e2e/cron:1`;
    const home = tempHome();
    expectExit(await a3s(["box", "pull", "-q", image], { home }), 0);
    expectExit(
      await a3s(
        [
          "cron",
          "add",
          "@daily",
          "--name",
          "boxed",
          "--box",
          image,
          "-e",
          "WHERE=box",
          "--",
          "echo in the $WHERE; cat /etc/hostname | wc -c",
        ],
        { home },
      ),
      0,
    );
    const run = expectExit(await a3s(["cron", "run", "boxed"], { home }), 0);
    expect(run.stdout).toStartWith("in the box\n");
    expect(expectExit(await a3s(["box", "ps", "-a", "-q"], { home }), 0).stdout).toBe(""); // --rm
    expect(existsSync(join(home, "a3s.db"))).toBe(true);
  }, 60_000);
});
