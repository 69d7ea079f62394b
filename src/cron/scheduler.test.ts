/**
 * The scheduler on a manual clock with real jobs (sh processes): overlap policies, timeouts,
 * retries, catch-up after a downtime, DST days, jobs edited while it runs, and crash recovery.
 * No test sleeps: time moves only when a test moves it.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processStartTime } from "../box/process.ts";
import { type Database, openDatabase } from "../core/db.ts";
import { pathsFor } from "../core/paths.ts";
import { ManualClock } from "./clock.ts";
import { backoffMs } from "./execute.ts";
import { type Run, RunStore } from "./runs.ts";
import { LATE_TOLERANCE_MS, MAX_SLEEP_MS, Scheduler } from "./scheduler.ts";
import { type CatchUp, type Job, type JobInput, JobStore } from "./store.ts";

const T0 = Date.parse("2024-01-01T00:00:30Z");
const iso = (ms: number) => new Date(ms).toISOString();

interface World {
  db: Database;
  jobs: JobStore;
  runs: RunStore;
  clock: ManualClock;
  dir: string;
  scheduler(catchUp?: CatchUp, owner?: { pid: number; start: number | undefined }): Scheduler;
  add(input: Partial<JobInput> & { command: string }): Job;
  history(): Run[];
}

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function world(start = T0): World {
  const db = openDatabase(":memory:");
  open.push(db);
  const dir = mkdtempSync(join(tmpdir(), "a3s-cron-sched-"));
  const jobs = new JobStore(db);
  const runs = new RunStore(db);
  const clock = new ManualClock(start);
  return {
    db,
    jobs,
    runs,
    clock,
    dir,
    scheduler: (catchUp = "none", owner = { pid: process.pid, start: processStartTime(process.pid) }) =>
      new Scheduler({
        jobs,
        runs,
        clock,
        paths: pathsFor(join(dir, "home")),
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        self: [],
        owner,
        catchUp,
      }),
    add: (input) =>
      jobs.insert(
        {
          name: `job${jobs.list().length}`,
          schedule: input.expression ?? "* * * * *",
          expression: "* * * * *",
          timezone: "UTC",
          kind: "shell",
          image: null,
          workdir: dir,
          env: {},
          timeoutMs: null,
          retries: 0,
          overlap: "skip",
          catchUp: null,
          enabled: true,
          nextRunAt: null,
          ...input,
        },
        iso(clock.now()),
      ),
    history: () => runs.list().reverse(),
  };
}

/** Yields to the event loop until `ready` holds: waiting on real processes, not on time. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

/** Lets in-flight runs finish, moving the clock through any backoff or grace they sleep on. */
async function drain(w: World, scheduler: Scheduler): Promise<void> {
  let done = false;
  const drained = scheduler.drain().then(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([drained, w.clock.untilSleeping(1)]);
    const wake = w.clock.nextWake;
    if (!done && wake !== undefined) await w.clock.set(wake);
  }
}

const waitForRelease = (dir: string) => `until [ -e ${dir}/release ]; do sleep 0.01; done`;

describe("overlap policies", () => {
  for (const overlap of ["skip", "queue", "allow"] as const) {
    test(`${overlap}: a due time while the previous run is still going`, async () => {
      const w = world();
      w.add({ command: waitForRelease(w.dir), overlap });
      const scheduler = w.scheduler();
      scheduler.start();
      await w.clock.set(Date.parse("2024-01-01T00:01:00Z"));
      scheduler.tick();
      await w.clock.set(Date.parse("2024-01-01T00:02:00Z"));
      scheduler.tick();
      const during = w.history().map((r) => r.status);
      writeFileSync(join(w.dir, "release"), "");
      await drain(w, scheduler);
      const after = w.history();
      expect(after.map((r) => r.scheduledFor)).toEqual([
        "2024-01-01T00:01:00.000Z",
        "2024-01-01T00:02:00.000Z",
      ]);
      if (overlap === "skip") {
        expect(during).toEqual(["running", "skipped"]);
        expect(after.map((r) => r.status)).toEqual(["success", "skipped"]);
        expect(after[1]?.reason).toBe(`overlap: run ${after[0]?.id} was still running`);
      } else if (overlap === "queue") {
        expect(during).toEqual(["running", "queued"]);
        expect(after.map((r) => r.status)).toEqual(["success", "success"]);
        expect(Date.parse(after[1]?.startedAt ?? "")).toBeGreaterThanOrEqual(
          Date.parse(after[0]?.finishedAt ?? ""),
        );
      } else {
        expect(during).toEqual(["running", "running"]);
        expect(after.map((r) => r.status)).toEqual(["success", "success"]);
      }
    });
  }
});

test("timeout: the run is killed and recorded as timeout", async () => {
  const w = world();
  w.add({ command: "sleep 60", timeoutMs: 10_000 });
  const scheduler = w.scheduler();
  scheduler.start();
  await w.clock.set(Date.parse("2024-01-01T00:01:00Z"));
  scheduler.tick();
  await w.clock.untilSleeping(1);
  await w.clock.advance(10_000);
  // SIGTERM ends `sleep`; the run is recorded without the clock reaching the SIGKILL grace.
  await until(() => w.history()[0]?.status === "timeout");
  await scheduler.drain();
  const [run] = w.history();
  expect(run).toMatchObject({ status: "timeout", signal: "SIGTERM", attempts: 1 });
  expect(run?.reason).toContain("timed out after 10000 ms");
  expect(w.jobs.list()[0]).toMatchObject({ runCount: 1, failureCount: 1, lastStatus: "timeout" });
});

test("retries: failed attempts are retried with exponential backoff until one succeeds", async () => {
  const w = world();
  const counter = join(w.dir, "count");
  w.add({
    command: `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ]`,
    retries: 5,
  });
  const scheduler = w.scheduler();
  scheduler.start();
  await w.clock.set(Date.parse("2024-01-01T00:01:00Z"));
  scheduler.tick();
  await drain(w, scheduler);
  const [run] = w.history();
  expect(readFileSync(counter, "utf8").trim()).toBe("3");
  expect(run).toMatchObject({ status: "success", attempts: 3, exitCode: 0 });
  // Two backoffs (1 s, then 2 s) of clock time passed between the first start and the end.
  expect(run?.durationMs).toBeGreaterThanOrEqual(backoffMs(1) + backoffMs(2));
  expect([backoffMs(1), backoffMs(2), backoffMs(3), backoffMs(20)]).toEqual([1000, 2000, 4000, 300_000]);
});

test("retries give up after the last attempt with the last failure", async () => {
  const w = world();
  w.add({ command: "echo nope >&2; exit 7", retries: 2 });
  const scheduler = w.scheduler();
  scheduler.start();
  await w.clock.set(Date.parse("2024-01-01T00:01:00Z"));
  scheduler.tick();
  await drain(w, scheduler);
  const [run] = w.history();
  expect(run).toMatchObject({ status: "failed", attempts: 3, exitCode: 7 });
  expect(w.runs.withOutput(run?.id ?? 0).stderr).toBe("nope\n");
});

describe("catch-up after downtime", () => {
  const down = Date.parse("2024-01-01T05:30:00Z");
  const hourly = (w: World, catchUp: CatchUp | null = null) => {
    const job = w.add({ expression: "0 * * * *", command: "echo ran", catchUp });
    return job;
  };

  test("none: every missed due time is recorded as skipped, nothing runs", async () => {
    const w = world();
    hourly(w);
    await w.clock.set(down);
    const scheduler = w.scheduler("none");
    scheduler.start();
    scheduler.tick();
    await drain(w, scheduler);
    const runs = w.history();
    expect(runs.map((r) => r.scheduledFor?.slice(11, 16))).toEqual([
      "01:00",
      "02:00",
      "03:00",
      "04:00",
      "05:00",
    ]);
    expect(new Set(runs.map((r) => r.status))).toEqual(new Set(["skipped"]));
    expect(runs[0]?.reason).toBe("missed: the scheduler was not running at 2024-01-01T01:00:00.000Z");
    expect(scheduler.nextWake()).toBe(Date.parse("2024-01-01T06:00:00Z"));
  });

  test("last: the latest missed due time runs, the others are recorded", async () => {
    const w = world();
    hourly(w);
    await w.clock.set(down);
    const scheduler = w.scheduler("last");
    scheduler.start();
    scheduler.tick();
    await drain(w, scheduler);
    expect(w.history().map((r) => `${r.scheduledFor?.slice(11, 16)} ${r.trigger} ${r.status}`)).toEqual([
      "01:00 schedule skipped",
      "02:00 schedule skipped",
      "03:00 schedule skipped",
      "04:00 schedule skipped",
      "05:00 catch-up success",
    ]);
  });

  test("all: every missed due time runs, one after another; a job's own policy wins", async () => {
    const w = world();
    hourly(w, "all");
    await w.clock.set(down);
    const scheduler = w.scheduler("none");
    scheduler.start();
    scheduler.tick();
    await drain(w, scheduler);
    const runs = w.history();
    expect(runs.map((r) => `${r.trigger} ${r.status}`)).toEqual(Array(5).fill("catch-up success"));
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i]?.startedAt ?? "")).toBeGreaterThanOrEqual(
        Date.parse(runs[i - 1]?.finishedAt ?? ""),
      );
    }
  });

  test("a due time handled within the tolerance is on time, not missed", async () => {
    const w = world();
    hourly(w);
    await w.clock.set(Date.parse("2024-01-01T01:00:00Z") + LATE_TOLERANCE_MS);
    const scheduler = w.scheduler("none");
    scheduler.start();
    scheduler.tick();
    await drain(w, scheduler);
    expect(w.history().map((r) => `${r.trigger} ${r.status}`)).toEqual(["schedule success"]);
  });

  test("a restarted scheduler claims nothing twice", async () => {
    const w = world();
    hourly(w);
    await w.clock.set(down);
    const first = w.scheduler("last");
    first.start();
    first.tick();
    await drain(w, first);
    const second = w.scheduler("all");
    second.start();
    second.tick();
    await drain(w, second);
    expect(w.history()).toHaveLength(5);
  });
});

test("two schedulers on one database run a due time once", async () => {
  const w = world();
  w.add({ command: "echo once" });
  const a = w.scheduler();
  const b = w.scheduler();
  a.start();
  b.start();
  await w.clock.set(Date.parse("2024-01-01T00:01:00Z"));
  a.tick();
  b.tick();
  await drain(w, a);
  await drain(w, b);
  expect(w.history().map((r) => r.status)).toEqual(["success"]);
});

describe("DST days", () => {
  const cases = [
    {
      zone: "America/New_York",
      from: "2024-03-09T12:00:00Z",
      to: "2024-03-12T12:00:00Z",
      expected: ["2024-03-10T07:30:00.000Z", "2024-03-11T06:30:00.000Z", "2024-03-12T06:30:00.000Z"],
    },
    {
      zone: "Europe/Berlin",
      from: "2024-10-26T12:00:00Z",
      to: "2024-10-29T12:00:00Z",
      expected: ["2024-10-27T00:30:00.000Z", "2024-10-28T01:30:00.000Z", "2024-10-29T01:30:00.000Z"],
    },
  ];
  for (const { zone, from, to, expected } of cases) {
    test(`${zone}: a 02:30 job runs once a day across the transition`, async () => {
      const w = world(Date.parse(from));
      w.add({ command: "true", expression: "30 2 * * *", timezone: zone });
      const scheduler = w.scheduler();
      scheduler.start();
      for (let wake = scheduler.nextWake(); wake !== undefined && wake < Date.parse(to); ) {
        await w.clock.set(wake);
        wake = scheduler.tick();
        // Each run ends before the clock moves on a day; otherwise the next one would overlap it.
        await drain(w, scheduler);
      }
      expect(w.history().map((r) => r.scheduledFor)).toEqual(expected);
      expect(w.history().every((r) => r.status === "success" && r.trigger === "schedule")).toBe(true);
    });
  }
});

test("jobs added, edited, paused and removed while the loop sleeps are picked up at once", async () => {
  const w = world();
  const job = w.add({ expression: "0 * * * *", command: "echo hourly" });
  const scheduler = w.scheduler();
  const stop = new AbortController();
  const loop = scheduler.loop(stop.signal);
  await w.clock.untilSleeping(1);
  // Due at 01:00, but the loop looks at the wall clock at least every MAX_SLEEP_MS.
  expect(scheduler.nextWake()).toBe(Date.parse("2024-01-01T01:00:00Z"));
  expect(w.clock.nextWake).toBe(T0 + MAX_SLEEP_MS);

  w.jobs.update(job.id, { expression: "*/5 * * * *", updatedAt: iso(w.clock.now()) });
  scheduler.wake();
  await w.clock.untilSleeping(1);
  expect(w.clock.nextWake).toBe(Date.parse("2024-01-01T00:05:00Z"));

  const other = w.add({ expression: "2 0 * * *", command: "echo other" });
  scheduler.wake();
  await w.clock.untilSleeping(1);
  expect(w.clock.nextWake).toBe(Date.parse("2024-01-01T00:02:00Z"));

  w.jobs.update(other.id, { enabled: false, updatedAt: iso(w.clock.now()) });
  scheduler.wake();
  await w.clock.untilSleeping(1);
  expect(w.clock.nextWake).toBe(Date.parse("2024-01-01T00:05:00Z"));

  await w.clock.set(Date.parse("2024-01-01T00:05:00Z"));
  await until(() => w.history().some((r) => r.status === "success"));
  w.jobs.delete(job.id);
  scheduler.wake();
  await w.clock.untilSleeping(1);
  stop.abort();
  await loop;
  expect(w.history()).toEqual([]); // removing a job removes its history
  expect(w.jobs.list().map((j) => j.name)).toEqual([other.name]);
});

test("runs left behind by a scheduler that died are closed on start", async () => {
  const w = world();
  const job = w.add({ command: "true" });
  const dead = Bun.spawnSync(["/bin/sh", "-c", "echo $$"]).stdout.toString().trim();
  const deadOwner = { pid: Number(dead), start: 1 };
  const running = w.runs.claim({
    job,
    trigger: "schedule",
    scheduledFor: iso(T0 - 30_000),
    owner: deadOwner,
    now: iso(T0),
  });
  w.runs.start(running?.id ?? 0, iso(T0));
  const queued = w.runs.claim({
    job,
    trigger: "schedule",
    scheduledFor: iso(T0 - 90_000),
    owner: deadOwner,
    now: iso(T0),
  });
  const scheduler = w.scheduler();
  scheduler.start();
  expect(w.runs.get(running?.id ?? 0)).toMatchObject({ status: "failed" });
  expect(w.runs.get(running?.id ?? 0)?.reason).toContain(`its scheduler (pid ${dead}) died during the run`);
  expect(w.runs.get(queued?.id ?? 0)).toMatchObject({ status: "skipped" });
  expect(existsSync(w.dir)).toBe(true);
});
