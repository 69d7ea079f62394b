import { describe, expect, test } from "bun:test";
import type { SubagentRequest } from "../types.ts";
import { createTaskTool, taskTool } from "./task.ts";
import { tempDir, toolContext } from "./testing.ts";
import { currentTodos, todoTool } from "./todo.ts";

const ctx = toolContext(tempDir());

describe("todo", () => {
  test("replaces the session's list and shows it", async () => {
    const todos = [
      { content: "Read the code", status: "completed" as const },
      { content: "Fix the bug", status: "in_progress" as const },
      { content: "Run the tests", status: "pending" as const },
    ];
    const result = await todoTool.run({ todos }, ctx);
    expect(result.content).toBe(
      "Todo list updated (1/3 done):\n[x] Read the code\n[>] Fix the bug\n[ ] Run the tests",
    );
    expect(result.display).toEqual({ kind: "todo", items: todos });
    expect(currentTodos(ctx)).toEqual(todos);
    await todoTool.run({ todos: [] }, ctx);
    expect(currentTodos(ctx)).toEqual([]);
  });

  test("at most one task in progress", async () => {
    const result = await todoTool.run(
      {
        todos: [
          { content: "a", status: "in_progress" },
          { content: "b", status: "in_progress" },
        ],
      },
      ctx,
    );
    expect(result.isError).toBe(true);
    expect(result.content).toContain("2 tasks are in_progress; only one may be");
  });
});

describe("task", () => {
  test("runs the subagent with the request and returns its report", async () => {
    const requests: SubagentRequest[] = [];
    const withSubagents = {
      ...ctx,
      runSubagent: async (request: SubagentRequest) => {
        requests.push(request);
        return "Found 3 call sites: a.ts:10, b.ts:4, c.ts:99";
      },
    };
    const result = await taskTool.run(
      { description: "Find call sites", prompt: "Find every call of foo()", subagent_type: "explorer" },
      withSubagents,
    );
    expect(result.content).toBe("Found 3 call sites: a.ts:10, b.ts:4, c.ts:99");
    expect(result.summary).toBe("Subagent done: Find call sites");
    expect(requests).toEqual([
      { description: "Find call sites", prompt: "Find every call of foo()", agent: "explorer" },
    ]);
  });

  test("inside a subagent there is no runSubagent: an error, not recursion", async () => {
    const result = await taskTool.run({ description: "x", prompt: "y" }, ctx);
    expect(result.isError).toBe(true);
    expect(result.content).toBe("subagents cannot start subagents");
  });

  test("the description lists the defined agents", () => {
    const tool = createTaskTool([{ name: "reviewer", description: "Reviews diffs for bugs" }]);
    expect(tool.description).toEndWith("Agents for subagent_type:\n- reviewer: Reviews diffs for bugs");
    expect(tool.ruleSubject({ description: "d", prompt: "p", subagent_type: "reviewer" }, ctx)).toBe(
      "reviewer",
    );
  });
});
