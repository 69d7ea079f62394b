import { afterEach, describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { cleanup } from "ink-testing-library";
import { runCodeTui } from "./code-app.tsx";
import { FakeSession, type FakeTurn } from "./testing/fake-session.ts";
import { KEYS, renderTui } from "./testing/render.tsx";

afterEach(cleanup);

describe("slash commands", () => {
  test("typing / lists matching commands; Tab completes; Enter runs the selected one", async () => {
    const ui = renderTui();
    await ui.type("/");
    let frame = await ui.waitFor((f) => f.includes("/permissions"));
    expect(frame).toContain("/help");
    expect(frame).toContain("/exit");
    await ui.type("co");
    frame = await ui.waitFor((f) => !f.includes("/permissions"));
    expect(frame).toContain("/compact");
    expect(frame).toContain("/cost");
    await ui.press(KEYS.down, KEYS.enter);
    await ui.waitFor((f) => f.includes("Total cost: $0.00"));
    await ui.press("/he", KEYS.tab);
    await ui.waitFor((f) => f.includes("> /help"));
    await ui.press(KEYS.enter);
    frame = await ui.waitFor((f) => f.includes("Commands"));
    expect(frame).toContain("Ctrl+C");
    expect(ui.session.prompts).toEqual([]);
  });

  test("/model lists the models in a picker and sets the chosen one; /model <name> sets directly", async () => {
    const ui = renderTui({ models: ["anthropic/claude-sonnet-4-5", "openai/gpt-5", "local/qwen3"] });
    await ui.press("/model", KEYS.enter);
    let frame = await ui.waitFor((f) => f.includes("Select a model"));
    expect(frame).toContain("❯ 1. anthropic/claude-sonnet-4-5");
    await ui.press(KEYS.down, KEYS.enter);
    frame = await ui.waitFor((f) => f.includes("Model set to openai/gpt-5"));
    expect(ui.session.modelsSet).toEqual(["openai/gpt-5"]);
    expect(frame).toContain("openai/gpt-5 ·");
    await ui.press("/model local/qwen3", KEYS.enter);
    await ui.waitFor((f) => f.includes("Model set to local/qwen3"));
    expect(ui.session.modelsSet).toEqual(["openai/gpt-5", "local/qwen3"]);
  });

  test("/compact, /permissions, /sessions, /cost call the session and print its answers", async () => {
    const ui = renderTui({
      sessions: [
        {
          id: "s-0",
          title: "fix the parser",
          cwd: "/work/project",
          model: "anthropic/claude-sonnet-4-5",
          createdAt: "2025-01-01T10:00:00Z",
          updatedAt: "2025-01-01T11:30:00Z",
          messages: 12,
          costUsd: 0.42,
        },
      ],
    });
    await ui.press("/compact", KEYS.enter);
    await ui.waitFor((f) => f.includes("Compacted the conversation (summary): 9000 → 1200 tokens"));
    expect(ui.session.compactions).toBe(1);
    await ui.press("/permissions", KEYS.enter);
    let frame = await ui.waitFor((f) => f.includes("Mode: default"));
    expect(frame).toContain("Bash(git status:*)");
    expect(frame).toContain("Bash(rm -rf:*)");
    await ui.press("/sessions", KEYS.enter);
    frame = await ui.waitFor((f) => f.includes("fix the parser"));
    expect(frame).toContain("s-0  2025-01-01 11:30    12 msgs    $0.42  fix the parser");
    await ui.press("/frobnicate", KEYS.enter);
    await ui.waitFor((f) => f.includes("Unknown command /frobnicate · /help lists the commands"));
    expect(ui.session.prompts).toEqual([]);
  });

  test("/clear starts a new session and the UI follows it", async () => {
    const ui = renderTui({ scripts: [(turn) => turn.finish()] });
    await ui.press("/clear", KEYS.enter);
    await ui.waitFor(() => ui.session.cleared.length === 1);
    const next = ui.session.cleared[0]!;
    await ui.waitFor(() => next.listenerCount === 1);
    expect(ui.session.listenerCount).toBe(0);
    await ui.press("hello again", KEYS.enter);
    await ui.waitFor(() => next.prompts.length === 1);
    expect(next.prompts).toEqual(["hello again"]);
    expect(ui.session.prompts).toEqual([]);
  });

  test("/exit and /quit exit with 0", async () => {
    for (const command of ["/exit", "/quit"]) {
      const ui = renderTui();
      await ui.press(command, KEYS.enter);
      await ui.waitFor(() => ui.exitCode() !== undefined);
      expect(ui.exitCode()).toBe(0);
    }
  });

  test("Shift+Tab cycles the permission mode", async () => {
    const ui = renderTui();
    await ui.press(KEYS.shiftTab);
    await ui.waitFor((f) => f.includes("accept-edits mode"));
    await ui.press(KEYS.shiftTab, KEYS.shiftTab);
    await ui.waitFor(() => ui.session.modesSet.length === 3);
    expect(ui.session.modesSet).toEqual(["accept-edits", "plan", "default"]);
  });
});

describe("interrupting and quitting", () => {
  const hang = async (turn: FakeTurn) => {
    await turn.interrupted;
    turn.finish("", "interrupted");
  };

  test("Esc interrupts the running turn and puts queued prompts back in the box", async () => {
    const ui = renderTui({ scripts: [hang] });
    await ui.press("long task", KEYS.enter);
    await ui.waitFor((f) => f.includes("Esc to interrupt"));
    await ui.press("then this", KEYS.enter);
    await ui.press(KEYS.escape);
    const frame = await ui.waitFor((f) => f.includes("Interrupted"));
    expect(ui.session.interrupts).toBe(1);
    expect(frame).toContain("> then this");
    expect(frame).not.toContain("queued:");
    expect(ui.session.prompts).toEqual(["long task"]);
  });

  test("Ctrl-C clears the input first, then warns, and a second press within 2 s exits with 130", async () => {
    const ui = renderTui();
    await ui.type("some text");
    await ui.press(KEYS.ctrlC);
    await ui.waitFor((f) => f.includes("Ask anything"));
    expect(ui.exitCode()).toBeUndefined();
    await ui.press(KEYS.ctrlC);
    await ui.waitFor((f) => f.includes("Press Ctrl-C again to exit"));
    await ui.press(KEYS.ctrlC);
    await ui.waitFor(() => ui.exitCode() !== undefined);
    expect(ui.exitCode()).toBe(130);
  });

  test("Ctrl-C during a turn interrupts it; Ctrl-D exits only on an empty line", async () => {
    const ui = renderTui({ scripts: [hang] });
    await ui.press("work", KEYS.enter);
    await ui.waitFor((f) => f.includes("Esc to interrupt"));
    await ui.press(KEYS.ctrlC);
    await ui.waitFor((f) => f.includes("Interrupted"));
    expect(ui.session.interrupts).toBe(1);
    await ui.press("ab", KEYS.left, KEYS.ctrlD);
    await ui.waitFor((f) => f.includes("> a") && !f.includes("ab"));
    expect(ui.exitCode()).toBeUndefined();
    await ui.press(KEYS.backspace, KEYS.ctrlD);
    await ui.waitFor(() => ui.exitCode() !== undefined);
    expect(ui.exitCode()).toBe(0);
  });
});

describe("runCodeTui", () => {
  function terminal() {
    const stdin = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode: () => stdin,
      ref: () => stdin,
      unref: () => stdin,
    });
    let output = "";
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 24 });
    stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    return {
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      output: () => output,
      send: (data: string) => stdin.write(data),
    };
  }

  test("submits the initial prompt, then resolves with 130 after a double Ctrl-C", async () => {
    const term = terminal();
    const session = new FakeSession();
    const exit = runCodeTui(session, { initialPrompt: "hello", stdin: term.stdin, stdout: term.stdout });
    while (session.prompts.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    term.send(KEYS.ctrlC);
    await new Promise((resolve) => setTimeout(resolve, 20));
    term.send(KEYS.ctrlC);
    expect(await exit).toBe(130);
    expect(session.prompts).toEqual(["hello"]);
    expect(term.output()).toContain("\x1b[?2004h");
    expect(term.output()).toContain("\x1b[?2004l");
  });

  test("refuses a stdin that is not a terminal", async () => {
    const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
    await expect(runCodeTui(new FakeSession(), { stdin })).rejects.toThrow("needs an interactive terminal");
  });
});
