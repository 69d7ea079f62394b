import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bashTool, shellArgv } from "./bash.ts";
import { tempDir, toolContext } from "./testing.ts";

const workspace = tempDir();
const ctx = toolContext(workspace);

/**
 * Waits until a process is dead: gone, or a zombie (killed, but its new parent has not reaped it
 * yet). The test's own timeout fails it if the process lives on.
 */
async function dead(pid: number): Promise<void> {
  for (;;) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return;
    }
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return;
    await Bun.sleep(20);
  }
}

describe("bash", () => {
  test("stdout and stderr arrive interleaved in the order written, in the workspace", async () => {
    const result = await bashTool.run({ command: "echo one; echo two >&2; echo three; pwd" }, ctx);
    expect(result.content).toBe(`one\ntwo\nthree\n${workspace}`);
    expect(result.isError).toBeUndefined();
    expect(result.summary).toMatch(/^exit 0 after /);
  });

  test("a failing command reports its exit code as an error", async () => {
    const result = await bashTool.run({ command: "echo oops >&2; exit 3" }, ctx);
    expect(result.isError).toBe(true);
    expect(result.content).toBe("oops\n\nExit code 3");
    const silent = await bashTool.run({ command: "true" }, ctx);
    expect(silent.content).toBe("(no output)");
  });

  test("shell error messages keep the command's own line numbers", async () => {
    const result = await bashTool.run({ command: "no-such-command-a3s" }, ctx);
    expect(result.content).toContain("line 1: no-such-command-a3s: command not found");
    expect(result.content).toContain("Exit code 127");
  });

  test("a timeout kills the whole process group", async () => {
    const result = await bashTool.run(
      { command: "sleep 30 & echo $! > bg.pid; echo started; wait", timeout: 300 },
      ctx,
    );
    expect(result.isError).toBe(true);
    expect(result.content).toStartWith("started\n");
    expect(result.content).toContain("timed out after 0.3 s");
    expect(result.summary).toBe("timed out after 0.3 s");
    await dead(Number(readFileSync(join(workspace, "bg.pid"), "utf8")));
  });

  test("processes that ignore SIGTERM are killed with SIGKILL", async () => {
    const result = await bashTool.run(
      { command: "trap '' TERM; sleep 30 & echo $! > stubborn.pid; wait", timeout: 200 },
      ctx,
    );
    expect(result.summary).toBe("timed out after 0.2 s");
    await dead(Number(readFileSync(join(workspace, "stubborn.pid"), "utf8")));
  });

  test("aborting the signal interrupts the command and kills its group", async () => {
    const controller = new AbortController();
    const running = bashTool.run(
      { command: "sleep 30 & echo $! > aborted.pid; echo waiting; wait" },
      { ...ctx, signal: controller.signal },
    );
    // Abort once the shell has started its child.
    while (!(await Bun.file(join(workspace, "aborted.pid")).exists())) await Bun.sleep(10);
    controller.abort();
    const result = await running;
    expect(result.summary).toBe("interrupted");
    expect(result.content).toContain("interrupted by the user");
    await dead(Number(readFileSync(join(workspace, "aborted.pid"), "utf8")));
    const before = new AbortController();
    before.abort();
    const never = await bashTool.run({ command: "echo ran > ran.txt" }, { ...ctx, signal: before.signal });
    expect(never.summary).toBe("interrupted");
  });

  test("long output keeps the head and the tail and says how much was cut", async () => {
    const result = await bashTool.run({ command: "seq 1 100000" }, ctx);
    const lines = result.content.split("\n");
    expect(lines[0]).toBe("1");
    expect(lines.at(-1)).toBe("100000");
    const note = result.content.match(/\[… (\d+) bytes \((\d+) lines\) of output omitted …\]/);
    expect(note).not.toBeNull();
    const shown = lines.filter((line) => /^\d+$/.test(line));
    expect(Number(note?.[2])).toBe(100000 - shown.length);
    // Every number kept is whole and in order: no line was cut in half.
    const numbers = shown.map(Number);
    expect(numbers.slice(1).every((n, i) => n > numbers[i]!)).toBe(true);
    expect(result.content.length).toBeLessThan(31_000);
  });

  test("terminal escapes and carriage-return redraws are cleaned up", async () => {
    const result = await bashTool.run(
      { command: "printf '\\033[31mred\\033[0m\\n10%%\\r50%%\\r100%%\\n'" },
      ctx,
    );
    expect(result.content).toBe("red\n100%");
  });

  test("a background job holding the pipes does not hold the result", async () => {
    const result = await bashTool.run({ command: "sleep 20 & echo $!; echo done" }, ctx);
    const [pid, done] = result.content.split("\n");
    expect(done).toBe("done");
    process.kill(Number(pid), "SIGKILL");
  });

  test("the permission subject is the command", () => {
    expect(bashTool.ruleSubject({ command: "  git status  " }, ctx)).toBe("git status");
    expect(bashTool.readOnly).toBe(false);
  });
});

describe("shellArgv", () => {
  test("runs bash on the host", () => {
    expect(shellArgv("ls", ctx)).toEqual(["bash", "-c", "exec 2>&1; ls"]);
  });

  test("with a sandbox image, runs sh in a throwaway box with the workspace mounted at the same path", () => {
    const boxed = { ...ctx, extraDirs: ["/data"], sandboxImage: "alpine:3" };
    expect(shellArgv("make test", boxed, ["/usr/bin/a3s"])).toEqual([
      "/usr/bin/a3s",
      "--home",
      ctx.home.paths.home,
      "box",
      "run",
      "--rm",
      "-v",
      `${workspace}:${workspace}`,
      "-v",
      "/data:/data",
      "-w",
      workspace,
      "alpine:3",
      "sh",
      "-c",
      "exec 2>&1; make test",
    ]);
  });
});
