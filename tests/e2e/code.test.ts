/**
 * a3s code through the compiled binary against the scripted fake provider (both wire protocols):
 * a multi-step task in a real git repo (read, edit, run the tests), permissions, hooks, MCP over
 * stdio, interruption and resume, retries, sessions, and a cron job that runs the agent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentEvent } from "../../src/code/types.ts";
import {
  agentEvents,
  type FakeProvider,
  startFakeProvider,
  writeFakeProviderConfig,
} from "../fixtures/fake-provider.ts";
import { a3s, BINARY, ensureBuilt, expectExit, ROOT, tempHome } from "./a3s.ts";

const KEY = "sk-fake-test";
let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider({ apiKey: KEY });
  await ensureBuilt();
});
afterAll(() => fake.stop());

/** An A3S_HOME whose config points a provider named "fake" at the fake server. */
function homeFor(protocol: "anthropic" | "openai", extra: Record<string, unknown> = {}): string {
  const home = tempHome();
  writeFakeProviderConfig(home, fake, protocol, extra);
  return home;
}

/** A small project in a fresh git repo with a failing test. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "a3s-code-project-"));
  writeFileSync(join(dir, "sum.sh"), "sum() { echo $(( $1 - $2 )); }\n");
  writeFileSync(
    join(dir, "test.sh"),
    '. ./sum.sh\n[ "$(sum 2 3)" = 5 ] && echo "ok" || { echo "FAIL: sum 2 3 = $(sum 2 3)"; exit 1; }\n',
  );
  writeFileSync(join(dir, "AGENTS.md"), "Run the tests with: sh test.sh\n");
  for (const args of [
    ["init", "-q"],
    ["add", "."],
    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"],
  ]) {
    expect(Bun.spawnSync(["git", ...args], { cwd: dir }).exitCode).toBe(0);
  }
  return dir;
}

const events = agentEvents;

const env = { FAKE_KEY: KEY };

describe.each(["anthropic", "openai"] as const)("a multi-step task over the %s protocol", (protocol) => {
  test("reads, edits, runs the tests and answers; everything is saved in the session", async () => {
    const home = homeFor(protocol);
    const dir = project();
    const first = fake.requests.length;
    fake.reply().text("Let me look at the code.").tool("read", { file_path: "sum.sh" });
    fake.reply().tool("edit", { file_path: "sum.sh", old_string: "$1 - $2", new_string: "$1 + $2" });
    fake.reply().tool("bash", { command: "sh test.sh", description: "run the tests" });
    fake
      .reply()
      .text("Fixed: `sum` subtracted; the test passes now.")
      .usage({ input: 2000, output: 30 })
      .stop();

    const result = expectExit(
      await a3s(
        [
          "code",
          "run",
          "--json",
          "--permission-mode",
          "accept-edits",
          "--allow",
          "Bash(sh test.sh)",
          "fix the failing test",
        ],
        {
          home,
          cwd: dir,
          env,
        },
      ),
      0,
    );
    expect(readFileSync(join(dir, "sum.sh"), "utf8")).toBe("sum() { echo $(( $1 + $2 )); }\n");
    const stream = events(result.stdout);
    expect(stream[0]?.type).toBe("session");
    const results = stream.filter((e) => e.type === "tool_result") as Extract<
      AgentEvent,
      { type: "tool_result" }
    >[];
    expect(results.map((r) => [r.name, r.isError])).toEqual([
      ["read", false],
      ["edit", false],
      ["bash", false],
    ]);
    expect(results[2]?.content).toContain("ok");
    expect(results[1]?.display?.kind).toBe("diff");
    const final = stream.at(-1) as Extract<AgentEvent, { type: "final" }>;
    expect(final).toMatchObject({ type: "final", stopReason: "end_turn", rounds: 4 });
    expect(final.text).toContain("Fixed");

    // What the provider was sent: the workspace context, the tools, and every tool result back.
    const sent = fake.requests.slice(first);
    expect(sent).toHaveLength(4);
    expect(sent.every((r) => r.protocol === protocol)).toBe(true);
    const body = JSON.stringify(sent[3]?.body);
    expect(body).toContain("Run the tests with: sh test.sh");
    expect(body).toContain("ok");
    expect(JSON.stringify(sent[0]?.body.tools)).toContain("edit");

    const sessions = expectExit(await a3s(["code", "sessions", "ls", "--all", "--json"], { home }), 0).json<
      Array<{ id: string; title: string; messages: number }>
    >();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ title: "fix the failing test", messages: 8 });
    const markdown = expectExit(
      await a3s(["code", "sessions", "export", sessions[0]?.id.slice(0, 8) ?? ""], { home }),
      0,
    );
    expect(markdown.stdout).toContain("**Tool call** `edit`");
  });
});

describe("permissions, hooks and MCP", () => {
  test("headless, a tool that would ask is denied with the rule that would allow it; the file is untouched", async () => {
    const home = homeFor("anthropic");
    const dir = project();
    const first = fake.requests.length;
    fake.reply().tool("bash", { command: "rm -f test.sh" });
    fake.reply().text("I was not allowed to run that.").stop();
    const result = expectExit(
      await a3s(["code", "run", "--json", "remove the test"], { home, cwd: dir, env }),
      0,
    );
    const denied = events(result.stdout).find((e) => e.type === "tool_result") as Extract<
      AgentEvent,
      { type: "tool_result" }
    >;
    expect(denied.isError).toBe(true);
    expect(denied.content).toContain("--allow 'Bash(rm:*)'");
    expect(readFileSync(join(dir, "test.sh"), "utf8")).toContain("sum 2 3");
    expect(JSON.stringify(fake.requests[first + 1]?.body)).toContain("Permission denied");
  });

  test("plan mode refuses edits even when a rule allows them; deny rules win over allow rules", async () => {
    const home = homeFor("openai");
    const dir = project();
    fake.reply().tool("write", { file_path: "new.txt", content: "x" });
    fake.reply().tool("bash", { command: "git status" });
    fake.reply().text("done").stop();
    const result = expectExit(
      await a3s(
        [
          "code",
          "run",
          "--json",
          "--permission-mode",
          "plan",
          "--allow",
          "Write",
          "--allow",
          "Bash",
          "--deny",
          "Bash(git:*)",
          "go",
        ],
        { home, cwd: dir, env },
      ),
      0,
    );
    const outcomes = events(result.stdout).filter((e) => e.type === "permission") as Extract<
      AgentEvent,
      { type: "permission" }
    >[];
    expect(outcomes.map((o) => o.decision)).toEqual(["deny", "deny"]);
    expect(outcomes[0]?.reason).toContain("plan");
    expect(outcomes[1]?.reason).toContain("Bash(git:*)");
  });

  test("a PreToolUse hook blocks a command (exit 2) and its message reaches the model", async () => {
    const home = homeFor("anthropic");
    const dir = project();
    mkdirSync(join(dir, ".a3s"));
    writeFileSync(
      join(dir, ".a3s", "settings.json"),
      JSON.stringify({
        hooks: {
          PreToolUse: [
            {
              matcher: "Bash",
              hooks: [
                { type: "command", command: "cat > hook-input.json; echo 'no network commands' >&2; exit 2" },
              ],
            },
          ],
        },
      }),
    );
    const first = fake.requests.length;
    fake.reply().tool("bash", { command: "curl example.com" });
    fake.reply().text("ok, no curl").stop();
    expectExit(
      await a3s(["code", "run", "--json", "--allow", "Bash", "fetch it"], { home, cwd: dir, env }),
      0,
    );
    expect(JSON.stringify(fake.requests[first + 1]?.body)).toContain("no network commands");
    const payload = JSON.parse(readFileSync(join(dir, "hook-input.json"), "utf8"));
    expect(payload).toMatchObject({
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command: "curl example.com" },
    });
  });

  test("tools of a stdio MCP server from .mcp.json are offered and called under the same permissions", async () => {
    const home = homeFor("anthropic");
    const dir = project();
    writeFileSync(
      join(dir, ".mcp.json"),
      JSON.stringify({
        mcpServers: {
          fixture: { command: process.execPath, args: [join(ROOT, "tests", "fixtures", "mcp-server.ts")] },
          // A broken entry beside it costs only itself: the session warns and goes on.
          broken: { type: "http", url: "not a url" },
        },
      }),
    );
    const first = fake.requests.length;
    fake.reply().tool("mcp__fixture__echo", { text: "hello over MCP" });
    fake.reply().text("echoed").stop();
    const result = expectExit(
      await a3s(["code", "run", "--json", "--allow", "mcp__fixture__echo", "echo something"], {
        home,
        cwd: dir,
        env,
      }),
      0,
    );
    const toolNames = ((fake.requests[first]?.body.tools ?? []) as Array<{ name: string }>).map(
      (t) => t.name,
    );
    expect(toolNames).toContain("mcp__fixture__echo");
    const echoed = events(result.stdout).find((e) => e.type === "tool_result") as Extract<
      AgentEvent,
      { type: "tool_result" }
    >;
    expect(echoed).toMatchObject({ name: "mcp__fixture__echo", isError: false });
    expect(echoed.content).toContain("hello over MCP");
    expect(result.stderr).toContain("mcpServers.broken.url: Invalid URL");
  });
});

describe("subagents and compaction", () => {
  test("the task tool runs a defined subagent with its own prompt and tools; the parent gets its report", async () => {
    const home = homeFor("anthropic");
    const dir = project();
    mkdirSync(join(dir, ".a3s", "agents"), { recursive: true });
    writeFileSync(
      join(dir, ".a3s", "agents", "reviewer.md"),
      "---\nname: reviewer\ndescription: Reviews shell code\ntools: Read, Grep\n---\nYou review shell scripts. Be terse.\n",
    );
    const first = fake.requests.length;
    fake
      .reply()
      .tool("task", { description: "review sum", prompt: "Review sum.sh", subagent_type: "reviewer" });
    fake.reply().tool("read", { file_path: "sum.sh" });
    fake.reply().text("sum.sh subtracts instead of adding.").stop();
    fake.reply().text("The reviewer found the bug.").stop();
    const result = expectExit(
      await a3s(["code", "run", "--json", "review the code"], { home, cwd: dir, env }),
      0,
    );
    const parentTools =
      (fake.requests[first]?.body.tools as Array<{ name: string; description: string }>) ?? [];
    expect(parentTools.find((t) => t.name === "task")?.description).toContain("reviewer: Reviews shell code");
    const sub = fake.requests[first + 1]?.body;
    expect(JSON.stringify(sub.system)).toContain("You review shell scripts. Be terse.");
    expect((sub.tools as Array<{ name: string }>).map((t) => t.name).sort()).toEqual(["grep", "read"]);
    const all = events(result.stdout);
    // The parent's stream shows the subagent's tool calls under the task call, not as its own.
    const task = all.find((e) => e.type === "tool_call") as Extract<AgentEvent, { type: "tool_call" }>;
    expect(task.name).toBe("task");
    expect(all.filter((e) => e.type === "tool_call")).toHaveLength(1);
    expect(all.filter((e) => e.type === "subagent_step")).toEqual([
      { type: "subagent_step", parentId: task.id, name: "read", input: { file_path: "sum.sh" } },
    ]);
    const report = all.find((e) => e.type === "tool_result") as Extract<AgentEvent, { type: "tool_result" }>;
    expect(report.content).toContain("subtracts instead of adding");
    expect(JSON.stringify(fake.requests[first + 3]?.body.messages)).toContain("subtracts instead of adding");
    const sessions = expectExit(await a3s(["code", "sessions", "ls", "--all", "--json"], { home }), 0).json<
      Array<{ parentId: string | null }>
    >();
    expect(sessions.filter((s) => s.parentId !== null)).toHaveLength(1);
  });

  test("near a small context window the older conversation is summarised; resume continues from the summary", async () => {
    const home = homeFor("openai", { contextWindows: { "gpt-4.1": 12_000 }, maxTokens: 500 });
    const dir = project();
    fake.reply().text("noted").stop();
    expectExit(
      await a3s(["code", "run", "--json", `remember this: ${"lorem ipsum ".repeat(2500)}`], {
        home,
        cwd: dir,
        env,
      }),
      0,
    );
    const first = fake.requests.length;
    fake.reply().text("SUMMARY: the user shared a long text.").stop();
    fake.reply().text("carrying on").stop();
    const result = expectExit(
      await a3s(["code", "run", "--json", "-c", "what now?"], { home, cwd: dir, env }),
      0,
    );
    expect(events(result.stdout).find((e) => e.type === "compaction")).toMatchObject({ method: "summary" });
    const after = JSON.stringify(fake.requests[first + 1]?.body.messages);
    expect(after).toContain("SUMMARY: the user shared a long text.");
    expect(after).not.toContain("lorem ipsum lorem ipsum");
    fake.reply().text("still here").stop();
    expectExit(await a3s(["code", "run", "-c", "and?"], { home, cwd: dir, env }), 0);
    expect(JSON.stringify(fake.requests.at(-1)?.body.messages)).toContain("SUMMARY: the user shared");
  });
});

describe("failures, interruption and resume", () => {
  test("a 429 with retry-after is retried and reported as an event", async () => {
    const home = homeFor("openai");
    fake.reply().httpError(429, { retryAfter: 1, message: "slow down" });
    fake.reply().text("after the wait").stop();
    const result = expectExit(await a3s(["code", "run", "--json", "hi"], { home, cwd: project(), env }), 0);
    const stream = events(result.stdout);
    expect(stream.find((e) => e.type === "retry")).toMatchObject({ type: "retry", attempt: 1 });
    expect(stream.at(-1)).toMatchObject({ type: "final", text: "after the wait" });
  });

  test("a bad key exits 7 with the provider's message; no model configured exits 2 with a hint", async () => {
    const home = homeFor("anthropic");
    const bad = await a3s(["code", "run", "hi"], { home, cwd: project(), env: { FAKE_KEY: "wrong" } });
    expect(bad.code).toBe(7);
    expect(bad.stderr).toContain("error:");
    const none = await a3s(["code", "run", "hi"], { cwd: project() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no model configured");
    const chat = await a3s(["code", "--json"], { home });
    expect(chat.code).toBe(2);
    expect(chat.json<{ error: { message: string } }>().error.message).toContain("interactive");
  });

  test("SIGINT stops a hanging answer (exit 130), the session stays consistent and --continue goes on", async () => {
    const home = homeFor("anthropic");
    const dir = project();
    fake.reply().text("Working on it").hang();
    const before = fake.requests.length;
    const child = Bun.spawn([BINARY, "code", "run", "--json", "long task"], {
      env: { ...process.env, ...env, A3S_HOME: home },
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    for (let i = 0; i < 400 && fake.requests.length === before; i++) await Bun.sleep(25);
    // Let the first words arrive before interrupting.
    await Bun.sleep(300);
    child.kill("SIGINT");
    expect(await child.exited).toBe(130);
    const stream = events(await new Response(child.stdout).text());
    expect(stream.at(-1)).toMatchObject({ type: "final", stopReason: "interrupted" });

    const first = fake.requests.length;
    fake.reply().text("continuing").stop();
    const next = expectExit(await a3s(["code", "run", "--continue", "and now?"], { home, cwd: dir, env }), 0);
    expect(next.stdout.trim()).toBe("continuing");
    const messages = fake.requests[first]?.body.messages as Array<{ role: string; content: unknown }>;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(JSON.stringify(messages)).toContain("long task");
    expect(JSON.stringify(messages)).toContain("Working on it");
  });
});

describe("cron runs the agent", () => {
  test("an --agent job runs a3s code headless and records its answer", async () => {
    const home = homeFor("anthropic");
    fake.reply().text("daily summary done").stop();
    const job = expectExit(
      await a3s(
        ["cron", "add", "every day at 9am", "--name", "summary", "--agent", "summarise the day", "--json"],
        { home, env },
      ),
      0,
    ).json<{ id: string; kind: string }>();
    expect(job.kind).toBe("agent");
    const run = await a3s(["cron", "run", "summary", "--json"], { home, env });
    expect(expectExit(run, 0).json<{ status: string; stdout: string }>()).toMatchObject({
      status: "success",
    });
    expect(run.json<{ stdout: string }>().stdout).toContain("daily summary done");
  });
});
