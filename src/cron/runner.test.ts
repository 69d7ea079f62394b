/** The runner against real processes: exit status, the output cap, process-group kill on timeout. */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSameProcessAlive } from "../box/process.ts";
import { ManualClock, systemClock } from "./clock.ts";
import { KILL_GRACE_MS, OUTPUT_CAP_BYTES, runProcess, TailBuffer } from "./runner.ts";

const dir = () => mkdtempSync(join(tmpdir(), "a3s-cron-runner-"));
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const sh = (script: string) => ["/bin/sh", "-c", script];

/** Yields to the event loop until `ready` holds: waiting on a real process, not on time. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

test("success, failure and exit codes", async () => {
  const ok = await runProcess(
    { argv: sh("echo out; echo err >&2"), cwd: dir(), env, timeoutMs: null },
    { clock: systemClock },
  );
  expect(ok).toMatchObject({
    status: "success",
    exitCode: 0,
    stdout: "out\n",
    stderr: "err\n",
    reason: null,
  });
  const failed = await runProcess(
    { argv: sh("exit 3"), cwd: dir(), env, timeoutMs: null },
    { clock: systemClock },
  );
  expect(failed).toMatchObject({ status: "failed", exitCode: 3 });
});

test("a missing working directory fails the run and says why", async () => {
  const result = await runProcess(
    { argv: sh("true"), cwd: "/nonexistent/dir", env, timeoutMs: null },
    { clock: systemClock },
  );
  expect(result.status).toBe("failed");
  expect(result.reason).toContain("cannot start");
});

test("output beyond the cap keeps the tail and counts what was dropped", async () => {
  const total = OUTPUT_CAP_BYTES + 10_000;
  const result = await runProcess(
    { argv: sh(`head -c ${total - 3} /dev/zero | tr '\\0' x; printf END`), cwd: dir(), env, timeoutMs: null },
    { clock: systemClock },
  );
  expect(result.stdout.length).toBe(OUTPUT_CAP_BYTES);
  expect(result.stdout.endsWith("xEND")).toBe(true);
  expect(result.stdoutDropped).toBe(10_000);
});

test("TailBuffer keeps exactly the last bytes across chunks", () => {
  const buffer = new TailBuffer(5);
  buffer.push(Buffer.from("abc"));
  buffer.push(Buffer.from("defg"));
  expect(buffer.text()).toBe("cdefg");
  expect(buffer.dropped).toBe(2);
});

test("a timeout kills the whole process group, SIGKILL when SIGTERM is ignored", async () => {
  const work = dir();
  const clock = new ManualClock(Date.parse("2024-01-01T00:00:00Z"));
  const script = `trap '' TERM; sleep 60 & echo $! > ${work}/child; wait`;
  const done = runProcess({ argv: sh(script), cwd: work, env, timeoutMs: 5_000 }, { clock });
  await clock.untilSleeping(1);
  await until(
    () => existsSync(join(work, "child")) && readFileSync(join(work, "child"), "utf8").endsWith("\n"),
  );
  const child = Number(readFileSync(join(work, "child"), "utf8"));
  await clock.advance(5_000); // SIGTERM: ignored by the shell (its sleep dies)
  await clock.untilSleeping(1);
  await clock.advance(KILL_GRACE_MS); // SIGKILL to the group
  const result = await done;
  expect(result.status).toBe("timeout");
  expect(result.reason).toContain("timed out after 5000 ms");
  expect(result.signal).toBe("SIGKILL");
  await until(() => !isSameProcessAlive(child, undefined));
  expect(isSameProcessAlive(child, undefined)).toBe(false);
});
