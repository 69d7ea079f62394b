import { afterEach, describe, expect, test } from "bun:test";
import { cleanup } from "ink-testing-library";
import type { ApprovalAnswer } from "../../src/code/types.ts";
import { History } from "./input/history.ts";
import type { FakeTurn } from "./testing/fake-session.ts";
import { KEYS, renderTui } from "./testing/render.tsx";

afterEach(cleanup);

/** A turn that streams `text` in small deltas, then ends. */
function answer(text: string, size = 7) {
  return (turn: FakeTurn) => {
    for (let i = 0; i < text.length; i += size)
      turn.emit({ type: "text_delta", text: text.slice(i, i + size) });
    turn.finish(text);
  };
}

describe("transcript", () => {
  test("a streamed markdown answer with code renders without its markup", async () => {
    const ui = renderTui({
      scripts: [
        answer("## Plan\n\n1. Read **the** file\n2. Fix `parse()`\n\n```ts\nexport const x = 1;\n```\n"),
      ],
    });
    await ui.type("fix it");
    await ui.press(KEYS.enter);
    const frame = await ui.waitFor((f) => f.includes("export const x = 1;"), "the code block");
    expect(frame).toContain("> fix it");
    expect(frame).toContain("● Plan");
    expect(frame).toContain("1. Read the file");
    expect(frame).toContain("2. Fix parse()");
    expect(frame).not.toContain("```");
    expect(ui.session.prompts).toEqual(["fix it"]);
  });

  test("2,000 deltas arrive complete and in order in the final frame", async () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`);
    const ui = renderTui({
      scripts: [
        async (turn) => {
          for (const [i, word] of words.entries()) {
            turn.emit({ type: "text_delta", text: `${word} ` });
            // Yield now and then so flushes interleave with the stream, as with a real socket.
            if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
          }
          turn.finish();
        },
      ],
    });
    await ui.press("stream", KEYS.enter);
    const frame = await ui.waitFor((f) => f.includes("w1999") && !f.includes("Working"), "the whole stream");
    const seen: string[] = [...(frame.match(/w\d+/g) ?? [])];
    expect(seen).toEqual(words);
  });

  test("a streaming answer taller than the screen shows its end; the whole answer lands when it ends", async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line${i}`);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ui = renderTui({
      scripts: [
        async (turn) => {
          turn.emit({ type: "text_delta", text: lines.join("\n\n") });
          await held;
          turn.finish();
        },
      ],
    });
    await ui.press("tall", KEYS.enter);
    const streaming = await ui.waitFor((f) => f.includes("line199"), "the end of the answer");
    expect(streaming).toContain("lines above (shown in full when the answer ends)");
    expect(streaming).not.toContain("line100\n");
    expect(streaming.split("\n").length).toBeLessThan(40);
    release();
    const frame = await ui.waitFor(
      (f) => !f.includes("lines above") && !f.includes("Working"),
      "the finished answer",
    );
    expect([...(frame.match(/line\d+/g) ?? [])]).toEqual(lines);
  });

  test("a tool call is collapsed to its key argument and result summary; errors and diffs show", async () => {
    const ui = renderTui({
      scripts: [
        (turn) => {
          turn.emit({ type: "tool_call_start", id: "t1", name: "read" });
          turn.emit({ type: "tool_call", id: "t1", name: "read", input: { path: "src/a.ts" } });
          turn.emit({
            type: "tool_result",
            id: "t1",
            name: "read",
            content: "1\tconst a = 1;\n2\t…",
            isError: false,
            summary: "Read 120 lines",
            durationMs: 4,
          });
          turn.emit({ type: "tool_call", id: "t2", name: "bash", input: { command: "npm test" } });
          turn.emit({
            type: "tool_result",
            id: "t2",
            name: "bash",
            content: "FAIL src/a.test.ts\nmore",
            isError: true,
            durationMs: 900,
          });
          turn.emit({ type: "tool_call", id: "t3", name: "edit", input: { path: "src/a.ts" } });
          turn.emit({
            type: "tool_result",
            id: "t3",
            name: "edit",
            content: "ok",
            isError: false,
            summary: "Updated src/a.ts with 1 addition and 1 removal",
            display: { kind: "diff", path: "src/a.ts", diff: "@@ -1 +1 @@\n-const a = 1;\n+const a = 2;\n" },
            durationMs: 2,
          });
          turn.emit({ type: "tool_call", id: "t5", name: "todo", input: {} });
          turn.emit({
            type: "tool_result",
            id: "t5",
            name: "todo",
            content: "2 tasks",
            isError: false,
            summary: "Updated the task list",
            display: {
              kind: "todo",
              items: [
                { content: "Fix the parser", status: "completed" },
                { content: "Run the tests", status: "in_progress" },
              ],
            },
            durationMs: 1,
          });
          turn.finish();
        },
      ],
    });
    await ui.press("go", KEYS.enter);
    const frame = await ui.waitFor((f) => f.includes("Run the tests"), "the todo list");
    expect(frame).toContain("● Read(src/a.ts)");
    expect(frame).toContain("⎿ Read 120 lines");
    expect(frame).not.toContain("const a = 1;\n2");
    expect(frame).toContain("● Bash(npm test)");
    expect(frame).toContain("⎿ FAIL src/a.test.ts");
    expect(frame).not.toContain("more");
    expect(frame).toContain("● Edit(src/a.ts)");
    expect(frame).toContain("-const a = 1;");
    expect(frame).toContain("+const a = 2;");
    expect(frame).toContain("☒ Fix the parser");
    expect(frame).toContain("☐ Run the tests");
  });

  test("a running subagent shows its latest tool calls under the task; when done, how many it made", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ui = renderTui({
      scripts: [
        async (turn) => {
          turn.emit({
            type: "tool_call",
            id: "task1",
            name: "task",
            input: { description: "find the parser" },
          });
          for (const path of ["a.ts", "b.ts", "c.ts", "d.ts"]) {
            turn.emit({
              type: "subagent_step",
              parentId: "task1",
              name: "read",
              input: { path: `src/${path}` },
            });
          }
          await held;
          turn.emit({
            type: "tool_result",
            id: "task1",
            name: "task",
            content: "The parser is in src/d.ts.",
            isError: false,
            summary: "Subagent done: find the parser",
            durationMs: 40,
          });
          turn.finish();
        },
      ],
    });
    await ui.press("where is the parser", KEYS.enter);
    const running = await ui.waitFor((f) => f.includes("Read(src/d.ts)"), "the subagent's steps");
    expect(running).toContain("Running… (4 tool uses)");
    expect(running).toContain("Read(src/b.ts)");
    expect(running).not.toContain("Read(src/a.ts)");
    release();
    const done = await ui.waitFor((f) => f.includes("Subagent done"), "the report");
    expect(done).toContain("⎿ Subagent done: find the parser (4 tool uses)");
    expect(done).not.toContain("Read(src/d.ts)");
  });

  test("finished items wrap to the terminal's width (Static is absolutely positioned)", async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const ui = renderTui({ scripts: [answer(`> ${long}\n\n- ${long}\n`)] });
    await ui.press("wrap", KEYS.enter);
    const frame = await ui.waitFor((f) => f.includes("word39") && !f.includes("Working"));
    const widest = Math.max(...frame.split("\n").map((line) => [...line].length));
    expect(widest).toBeLessThanOrEqual(100);
    expect(frame).toMatch(/│ word\d+/);
  });

  test("errors and retries are shown as notes", async () => {
    const ui = renderTui({
      scripts: [
        (turn) => {
          turn.emit({ type: "retry", attempt: 1, delayMs: 2000, reason: "429" });
          turn.emit({ type: "error", code: "network", message: "the provider is unreachable" });
          turn.finish("", "error");
        },
      ],
    });
    await ui.press("hi", KEYS.enter);
    const frame = await ui.waitFor((f) => f.includes("unreachable"));
    expect(frame).toContain("retrying in 2 s (429)");
    expect(frame).toContain("Error: the provider is unreachable");
  });
});

describe("approval dialog", () => {
  function asking(answers: ApprovalAnswer[]) {
    return async (turn: FakeTurn) => {
      turn.emit({
        type: "tool_call",
        id: "toolu_1",
        name: "bash",
        input: { command: "npm test -- --watch=false" },
      });
      answers.push(
        await turn.ask({
          tool: "bash",
          ruleName: "Bash",
          input: { command: "npm test -- --watch=false" },
          suggestedRule: "Bash(npm test:*)",
        }),
      );
      turn.finish();
    };
  }

  async function open(answers: ApprovalAnswer[]) {
    const ui = renderTui({ scripts: [asking(answers)] });
    await ui.press("test", KEYS.enter);
    const frame = await ui.waitFor((f) => f.includes("Do you want to proceed?"), "the dialog");
    expect(frame).toContain("● Bash(npm test -- --watch=false)");
    expect(frame).toContain("⎿ Waiting for approval…");
    expect(frame).toContain("npm test -- --watch=false");
    expect(frame).toContain("1. Yes");
    expect(frame).toContain("2. Yes, and don't ask again for Bash(npm test:*)");
    expect(frame).toContain("3. No, and tell the model what to do differently");
    return ui;
  }

  test("Enter allows once", async () => {
    const answers: ApprovalAnswer[] = [];
    const ui = await open(answers);
    await ui.press(KEYS.enter);
    await ui.waitFor((f) => !f.includes("Do you want to proceed?"));
    expect(answers).toEqual([{ kind: "allow_once" }]);
  });

  test("Down then Enter allows always with the suggested rule; 2 does the same", async () => {
    const answers: ApprovalAnswer[] = [];
    const ui = await open(answers);
    await ui.press(KEYS.down, KEYS.enter);
    await ui.waitFor(() => answers.length === 1);
    expect(answers).toEqual([{ kind: "allow_always", rule: "Bash(npm test:*)" }]);
    const again: ApprovalAnswer[] = [];
    const second = await open(again);
    await second.press("2");
    await second.waitFor(() => again.length === 1);
    expect(again).toEqual([{ kind: "allow_always", rule: "Bash(npm test:*)" }]);
  });

  test("3 asks what to do instead and denies with that message; the prompt box ignores the typing", async () => {
    const answers: ApprovalAnswer[] = [];
    const ui = await open(answers);
    await ui.press("3");
    await ui.waitFor((f) => f.includes("Tell the model what to do instead"));
    await ui.type("use bun test");
    // React applies the keystrokes on its own schedule; Enter must come after they show.
    await ui.waitFor((f) => f.includes("use bun test"), "the typed message");
    await ui.press(KEYS.enter);
    await ui.waitFor(() => answers.length === 1);
    expect(answers).toEqual([{ kind: "deny", message: "use bun test" }]);
    const frame = await ui.waitFor((f) => !f.includes("Tell the model"));
    expect(frame).toContain("Ask anything");
  });

  test("Esc denies", async () => {
    const answers: ApprovalAnswer[] = [];
    const ui = await open(answers);
    await ui.press(KEYS.escape);
    await ui.waitFor(() => answers.length === 1);
    expect(answers).toEqual([{ kind: "deny" }]);
    expect(ui.session.interrupts).toBe(0);
  });

  test("an edit shows a diff preview of its change", async () => {
    const ui = renderTui({
      scripts: [
        async (turn) => {
          await turn.ask({
            tool: "edit",
            ruleName: "Edit",
            input: { path: "src/a.ts", old_string: "let a = 1;", new_string: "const a = 1;" },
          });
          turn.finish();
        },
      ],
    });
    await ui.press("edit", KEYS.enter);
    const frame = await ui.waitFor((f) => f.includes("Do you want to proceed?"));
    expect(frame).toContain("src/a.ts");
    expect(frame).toContain("-let a = 1;");
    expect(frame).toContain("+const a = 1;");
  });
});

describe("prompt input", () => {
  test("Alt+Enter, Ctrl-J, kitty Shift+Enter and a trailing backslash insert newlines; Enter submits all", async () => {
    const ui = renderTui();
    await ui.type("one");
    await ui.press(
      KEYS.altEnter,
      "two",
      KEYS.ctrlJ,
      "three",
      KEYS.shiftEnterKitty,
      "four \\",
      KEYS.enter,
      "five",
    );
    const frame = await ui.waitFor((f) => f.includes("five"));
    expect(frame).toContain("one");
    await ui.press(KEYS.enter);
    await ui.waitFor(() => ui.session.prompts.length === 1);
    expect(ui.session.prompts).toEqual(["one\ntwo\nthree\nfour \nfive"]);
  });

  test("a bracketed multi-line paste is inserted, not submitted", async () => {
    const ui = renderTui();
    await ui.press(KEYS.paste("line 1\rline 2\r"), "end");
    await ui.waitFor((f) => f.includes("end"));
    expect(ui.session.prompts).toEqual([]);
    await ui.press(KEYS.enter);
    await ui.waitFor(() => ui.session.prompts.length === 1);
    expect(ui.session.prompts).toEqual(["line 1\nline 2\nend"]);
  });

  test("cursor movement and Ctrl-A/E/K/U/W editing", async () => {
    const ui = renderTui();
    await ui.type("hello world");
    await ui.press(KEYS.ctrlW, "there", KEYS.ctrlA, KEYS.right, KEYS.backspace, "H", KEYS.ctrlE, "!");
    await ui.press(KEYS.left, KEYS.left, KEYS.ctrlK, KEYS.enter);
    await ui.waitFor(() => ui.session.prompts.length === 1);
    expect(ui.session.prompts).toEqual(["Hello ther"]);
    await ui.type("discard me");
    await ui.press(KEYS.ctrlU, "kept", KEYS.enter);
    await ui.waitFor(() => ui.session.prompts.length === 2);
    expect(ui.session.prompts[1]).toBe("kept");
  });

  test("Up and Down browse history from the first and last line, restoring the draft", async () => {
    const history = new History();
    history.add("older");
    history.add("multi\nline");
    const ui = renderTui({ history });
    await ui.type("draft");
    await ui.press(KEYS.up);
    await ui.waitFor((f) => f.includes("multi") && !f.includes("draft"));
    await ui.press(KEYS.up);
    await ui.waitFor((f) => f.includes("older") && !f.includes("multi"), "the older entry");
    await ui.press(KEYS.down);
    await ui.waitFor((f) => f.includes("multi"));
    await ui.press(KEYS.down, KEYS.down);
    await ui.waitFor((f) => f.includes("draft"), "the draft");
    await ui.press(KEYS.enter);
    await ui.waitFor(() => ui.session.prompts.length === 1);
    expect(ui.session.prompts).toEqual(["draft"]);
    expect(history.all.at(-1)).toBe("draft");
  });

  test("prompts typed while a turn runs are queued and submitted after it", async () => {
    let release = () => {};
    const ui = renderTui({
      scripts: [
        async (turn) => {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          turn.finish();
        },
        answer("second answer"),
      ],
    });
    await ui.press("first", KEYS.enter);
    await ui.waitFor((f) => f.includes("Working"));
    await ui.press("second", KEYS.enter);
    await ui.waitFor((f) => f.includes("queued: second"));
    expect(ui.session.prompts).toEqual(["first"]);
    release();
    await ui.waitFor((f) => f.includes("second answer"));
    expect(ui.session.prompts).toEqual(["first", "second"]);
  });
});
