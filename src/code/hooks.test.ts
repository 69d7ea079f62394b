import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HookEvent } from "./hooks.ts";
import { HookRunner } from "./hooks.ts";
import type { Hooks } from "./settings.ts";

const base = mkdtempSync(join(tmpdir(), "a3s-hooks-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

let dir: string;
let counter = 0;
beforeEach(() => {
  dir = join(base, `p${counter++}`);
  mkdirSync(dir, { recursive: true });
});

/** A hook script file in the project; `body` is bash. */
function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  return path;
}

function hook(command: string, timeout?: number) {
  return { type: "command" as const, command, ...(timeout === undefined ? {} : { timeout }) };
}

function runner(hooks: Hooks, extra: { signal?: AbortSignal } = {}): HookRunner {
  return new HookRunner({
    hooks,
    projectDir: dir,
    sessionId: "s-123",
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    permissionMode: () => "default",
    ...extra,
  });
}

function on(event: HookEvent, commands: string[], matcher?: string): Hooks {
  return {
    [event]: [{ ...(matcher === undefined ? {} : { matcher }), hooks: commands.map((c) => hook(c)) }],
  };
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

describe("PreToolUse", () => {
  test("the hook gets the event on stdin and the project in its environment and cwd", async () => {
    const dump = script(
      "dump.sh",
      `cat > payload.json; echo "$A3S_PROJECT_DIR|$CLAUDE_PROJECT_DIR|$PWD" > env.txt`,
    );
    const outcome = await runner(on("PreToolUse", [dump])).preToolUse("Bash", { command: "ls" }, "toolu_1");
    expect(outcome).toEqual({ ran: 1, errors: [], messages: [] });
    expect(readJson(join(dir, "payload.json"))).toEqual({
      session_id: "s-123",
      transcript_path: "",
      cwd: dir,
      hook_event_name: "PreToolUse",
      permission_mode: "default",
      tool_name: "Bash",
      tool_input: { command: "ls" },
      tool_use_id: "toolu_1",
    });
    expect(readFileSync(join(dir, "env.txt"), "utf8").trim()).toBe(`${dir}|${dir}|${dir}`);
  });

  test("exit 2 blocks with stderr as the reason", async () => {
    const guard = script(
      "guard.sh",
      `grep -q 'rm -rf' && { echo "rm -rf is not allowed" >&2; exit 2; }; exit 0`,
    );
    const hooks = on("PreToolUse", [guard], "Bash");
    expect(await runner(hooks).preToolUse("Bash", { command: "rm -rf /" })).toEqual({
      ran: 1,
      errors: [],
      messages: [],
      decision: "deny",
      reason: "rm -rf is not allowed",
    });
    expect((await runner(hooks).preToolUse("Bash", { command: "ls" })).decision).toBeUndefined();
  });

  test("JSON answers: permission decision, reason, updated input, context", async () => {
    const answer = JSON.stringify({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "ask",
        permissionDecisionReason: "touches config",
        updatedInput: { command: "ls -la", timeout: 5 },
        additionalContext: "the repo uses pnpm",
      },
      systemMessage: "checked by policy.sh",
    });
    const policy = script("policy.sh", `cat > /dev/null; echo '${answer}'`);
    expect(await runner(on("PreToolUse", [policy])).preToolUse("Bash", { command: "ls" })).toEqual({
      ran: 1,
      errors: [],
      messages: ["checked by policy.sh"],
      decision: "ask",
      reason: "touches config",
      updatedInput: { command: "ls -la", timeout: 5 },
      additionalContext: "the repo uses pnpm",
    });
  });

  test("the legacy decision field still works", async () => {
    const approve = script("approve.sh", `echo '{"decision":"approve","reason":"fine"}'`);
    const outcome = await runner(on("PreToolUse", [approve])).preToolUse("Read", {});
    expect([outcome.decision, outcome.reason]).toEqual(["allow", "fine"]);
  });

  test("hooks run in parallel and a deny from any of them wins", async () => {
    // Each waits for the other's file: this only finishes if both run at once.
    const a = script(
      "a.sh",
      `touch a.started; for i in $(seq 200); do [ -e b.started ] && break; sleep 0.05; done
      [ -e b.started ] || exit 1
      echo '{"hookSpecificOutput":{"permissionDecision":"allow"}}'`,
    );
    const b = script(
      "b.sh",
      `touch b.started; for i in $(seq 200); do [ -e a.started ] && break; sleep 0.05; done
      [ -e a.started ] || exit 1
      echo "denied by b" >&2; exit 2`,
    );
    const outcome = await runner(on("PreToolUse", [a, b])).preToolUse("Bash", { command: "x" });
    expect(outcome.errors).toEqual([]);
    expect(outcome.ran).toBe(2);
    expect([outcome.decision, outcome.reason]).toEqual(["deny", "denied by b"]);
  });

  test("a denied call carries no updated input", async () => {
    const rewrite = script("rewrite.sh", `echo '{"hookSpecificOutput":{"updatedInput":{"command":"true"}}}'`);
    const deny = script("deny.sh", "echo no >&2; exit 2");
    const outcome = await runner(on("PreToolUse", [rewrite, deny])).preToolUse("Bash", { command: "x" });
    expect(outcome.decision).toBe("deny");
    expect(outcome.updatedInput).toBeUndefined();
  });

  test("matchers: exact names, alternatives, regexes, everything", async () => {
    const mark = (name: string) => `echo ${name} >> ran.txt`;
    const hooks: Hooks = {
      PreToolUse: [
        { matcher: "Edit|Write", hooks: [hook(mark("edit-or-write"))] },
        { matcher: "mcp__github__.*", hooks: [hook(mark("github"))] },
        { matcher: "Bash", hooks: [hook(mark("bash"))] },
        { matcher: "*", hooks: [hook(mark("star"))] },
        { hooks: [hook(mark("none"))] },
        { matcher: "Wri", hooks: [hook(mark("partial-name"))] },
      ],
    };
    const ran = async (tool: string) => {
      rmSync(join(dir, "ran.txt"), { force: true });
      await runner(hooks).preToolUse(tool, {});
      return readFileSync(join(dir, "ran.txt"), "utf8").trim().split("\n").sort();
    };
    expect(await ran("Write")).toEqual(["edit-or-write", "none", "star"]);
    expect(await ran("mcp__github__search")).toEqual(["github", "none", "star"]);
    expect(await ran("Bash")).toEqual(["bash", "none", "star"]);
  });

  test("an invalid matcher is reported, not fatal", async () => {
    const outcome = await runner({ PreToolUse: [{ matcher: "(", hooks: [hook("true")] }] }).preToolUse(
      "Bash",
      {},
    );
    expect(outcome.ran).toBe(0);
    expect(outcome.errors).toEqual([{ command: "matcher (", message: "not a valid regular expression" }]);
  });

  test("other exit statuses are non-blocking errors", async () => {
    const broken = script("broken.sh", "echo 'something broke' >&2; exit 1");
    const outcome = await runner(on("PreToolUse", [broken, "no-such-command-a3s"])).preToolUse("Bash", {});
    expect(outcome.decision).toBeUndefined();
    expect(outcome.errors).toContainEqual({ command: broken, message: "exit status 1: something broke" });
    expect(outcome.errors.find((error) => error.command === "no-such-command-a3s")?.message).toStartWith(
      "exit status 127",
    );
  });

  test("a timeout kills the hook's whole process group", async () => {
    const slow = script("slow.sh", "sleep 30 & echo $! > child.pid; wait");
    const hooks: Hooks = { PreToolUse: [{ hooks: [hook(slow, 0.5)] }] };
    const outcome = await runner(hooks).preToolUse("Bash", {});
    expect(outcome.errors).toEqual([{ command: slow, message: "timed out after 0.5 s" }]);
    const pid = Number(readFileSync(join(dir, "child.pid"), "utf8"));
    expect(isAlive(pid)).toBe(false);
  });

  test("aborting kills running hooks", async () => {
    const slow = script("slow.sh", "touch started; sleep 30");
    const controller = new AbortController();
    const pending = runner(on("PreToolUse", [slow]), { signal: controller.signal }).preToolUse("Bash", {});
    while (!existsSync(join(dir, "started"))) await Bun.sleep(10);
    controller.abort();
    expect((await pending).errors).toEqual([{ command: slow, message: "interrupted" }]);
  });

  test("a process left in the background does not hold the hook open", async () => {
    const spawner = script("bg.sh", 'sleep 30 & echo $! > bg.pid; echo \'{"systemMessage":"spawned"}\'');
    const outcome = await runner(on("PreToolUse", [spawner])).preToolUse("Bash", {});
    expect(outcome.messages).toEqual(["spawned"]);
    process.kill(Number(readFileSync(join(dir, "bg.pid"), "utf8")), "SIGKILL");
  });

  test("the same command configured twice runs once", async () => {
    const count = script("count.sh", "echo x >> count.txt");
    const outcome = await runner({
      PreToolUse: [{ hooks: [hook(count)] }, { matcher: "Bash", hooks: [hook(count)] }],
    }).preToolUse("Bash", {});
    expect(outcome.ran).toBe(1);
    expect(readFileSync(join(dir, "count.txt"), "utf8")).toBe("x\n");
  });

  test('{"continue": false} asks the agent to stop', async () => {
    const halt = script("halt.sh", `echo '{"continue":false,"stopReason":"build is broken"}'`);
    expect((await runner(on("PreToolUse", [halt])).preToolUse("Bash", {})).stop).toBe("build is broken");
  });

  test("stdout that looks like JSON but is not is reported", async () => {
    const bad = script("bad.sh", "echo '{not json'");
    const outcome = await runner(on("PreToolUse", [bad])).preToolUse("Bash", {});
    expect(outcome.errors).toEqual([{ command: bad, message: "stdout looks like JSON but does not parse" }]);
  });
});

describe("PostToolUse", () => {
  test("gets the tool response; a block reason and exit-2 stderr are fed back", async () => {
    const dump = script("dump.sh", "cat > payload.json");
    const lint = script("lint.sh", `echo '{"decision":"block","reason":"lint failed: missing semicolon"}'`);
    const fmt = script("fmt.sh", "echo 'formatter crashed' >&2; exit 2");
    const outcome = await runner(on("PostToolUse", [dump, lint, fmt], "Edit|Write")).postToolUse(
      "Edit",
      { path: "a.ts" },
      { content: "ok", isError: false },
      "toolu_9",
    );
    expect(readJson(join(dir, "payload.json"))).toMatchObject({
      hook_event_name: "PostToolUse",
      tool_name: "Edit",
      tool_input: { path: "a.ts" },
      tool_response: { content: "ok", isError: false },
      tool_use_id: "toolu_9",
    });
    expect(outcome.feedback).toBe("lint failed: missing semicolon\n\nformatter crashed");
    expect(outcome.errors).toEqual([]);
  });
});

describe("UserPromptSubmit", () => {
  test("plain stdout and additionalContext become context", async () => {
    const branch = script("branch.sh", "cat > payload.json; echo 'Current ticket: A3S-42'");
    const json = script(
      "json.sh",
      `echo '{"hookSpecificOutput":{"hookEventName":"UserPromptSubmit","additionalContext":"Be brief."}}'`,
    );
    const outcome = await runner(
      on("UserPromptSubmit", [branch, json], "ignored-for-this-event"),
    ).userPromptSubmit("fix the bug");
    expect(outcome.additionalContext).toBe("Current ticket: A3S-42\n\nBe brief.");
    expect(outcome.blocked).toBeUndefined();
    expect(readJson(join(dir, "payload.json"))).toMatchObject({
      hook_event_name: "UserPromptSubmit",
      prompt: "fix the bug",
    });
  });

  test("exit 2 or a block decision refuses the prompt", async () => {
    const secrets = script(
      "secrets.sh",
      `grep -q 'sk-' && { echo 'prompt contains a key' >&2; exit 2; }; exit 0`,
    );
    expect((await runner(on("UserPromptSubmit", [secrets])).userPromptSubmit("use sk-123")).blocked).toBe(
      "prompt contains a key",
    );
    const policy = script("policy.sh", `echo '{"decision":"block","reason":"not during a freeze"}'`);
    expect((await runner(on("UserPromptSubmit", [policy])).userPromptSubmit("deploy")).blocked).toBe(
      "not during a freeze",
    );
  });
});

describe("SessionStart", () => {
  test("matchers select by source; context comes back", async () => {
    const hooks: Hooks = {
      SessionStart: [
        { matcher: "startup", hooks: [hook("echo 'fresh start'")] },
        {
          matcher: "resume|compact",
          hooks: [
            hook(`cat > payload.json; echo '{"hookSpecificOutput":{"additionalContext":"welcome back"}}'`),
          ],
        },
      ],
    };
    expect((await runner(hooks).sessionStart("startup")).additionalContext).toBe("fresh start");
    expect((await runner(hooks).sessionStart("resume")).additionalContext).toBe("welcome back");
    expect(readJson(join(dir, "payload.json"))).toMatchObject({
      hook_event_name: "SessionStart",
      source: "resume",
    });
    expect((await runner(hooks).sessionStart("clear")).ran).toBe(0);
  });
});

describe("Stop", () => {
  test("exit 2 keeps the agent going with stderr; stop_hook_active is passed", async () => {
    const check = script(
      "check.sh",
      `payload=$(cat); echo "$payload" > payload.json
       case "$payload" in *'"stop_hook_active":true'*) exit 0;; esac
       echo 'tests are failing, fix them' >&2; exit 2`,
    );
    const hooks = on("Stop", [check]);
    const first = await runner(hooks).stop(false);
    expect(first.continueWith).toBe("tests are failing, fix them");
    expect(readJson(join(dir, "payload.json"))).toMatchObject({
      hook_event_name: "Stop",
      stop_hook_active: false,
    });
    const second = await runner(hooks).stop(true);
    expect(second.continueWith).toBeUndefined();
  });

  test("a hook that always blocks is overruled after 8 blocks in a row", async () => {
    const stubborn = script("stubborn.sh", `echo '{"decision":"block","reason":"keep going"}'`);
    const r = runner(on("Stop", [stubborn]));
    const answers: Array<string | undefined> = [];
    for (let i = 0; i < 9; i++) answers.push((await r.stop(i > 0)).continueWith);
    expect(answers.slice(0, 8)).toEqual(Array(8).fill("keep going"));
    const last = await r.stop(true);
    expect(last.continueWith).toBeUndefined();
    expect(last.errors[0]?.message).toContain("8 times in a row");
    // A new stop (not a continuation) starts counting again.
    expect((await r.stop(false)).continueWith).toBe("keep going");
  });
});

test("no hooks: nothing runs", async () => {
  const r = runner({});
  expect(r.has("PreToolUse")).toBe(false);
  expect(await r.preToolUse("Bash", {})).toEqual({ ran: 0, errors: [], messages: [] });
  expect(await r.stop(false)).toEqual({ ran: 0, errors: [], messages: [] });
});

/** Running, not a zombie waiting for init to reap it (this machine's init reaps lazily). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/^\d+ \(.*\) [ZX] /.test(stat);
}
