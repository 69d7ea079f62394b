/** The todo tool: the session's task list, replaced whole on each call and shown by the TUI. */
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { TodoItem, ToolContext, ToolResult } from "../types.ts";
import { defineTool } from "./tool.ts";

export const TODOS_KEY = "todos";

const input = z.object({
  todos: z
    .array(
      z.object({
        content: z.string().min(1).describe("The task, in imperative form: 'Run the tests'"),
        status: z.enum(["pending", "in_progress", "completed"]).describe("pending, in_progress or completed"),
      }),
    )
    .describe("The complete, updated list (it replaces the previous one)"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Keeps a task list for the current work, shown to the user. Each call replaces the whole list.

- Use it for work with 3 or more steps, or when the user gives several tasks: it shows your plan and progress.
- Mark a task in_progress before you start it and completed as soon as it is done; only one task is in_progress at a time.
- Add tasks you discover along the way; remove ones that no longer apply. Do not mark a task completed if tests fail or the work is partial.
- Skip it for a single simple task.`;

const MARK: Record<TodoItem["status"], string> = { pending: "[ ]", in_progress: "[>]", completed: "[x]" };

export function currentTodos(ctx: Pick<ToolContext, "state">): TodoItem[] {
  return (ctx.state.get(TODOS_KEY) as TodoItem[] | undefined) ?? [];
}

async function writeTodos(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const active = value.todos.filter((item) => item.status === "in_progress");
  if (active.length > 1) {
    throw new A3sError(
      "usage",
      `${active.length} tasks are in_progress; only one may be (finish one before starting the next)`,
    );
  }
  const items: TodoItem[] = value.todos.map(({ content, status }) => ({ content, status }));
  ctx.state.set(TODOS_KEY, items);
  const done = items.filter((item) => item.status === "completed").length;
  const list = items.map((item) => `${MARK[item.status]} ${item.content}`).join("\n");
  return {
    content:
      items.length === 0
        ? "The todo list is now empty."
        : `Todo list updated (${done}/${items.length} done):\n${list}`,
    summary: `${items.length} todo${items.length === 1 ? "" : "s"}, ${done} done`,
    display: { kind: "todo", items },
  };
}

export const todoTool = defineTool<Input>({
  name: "todo",
  ruleName: "TodoWrite",
  description: DESCRIPTION,
  input,
  readOnly: true,
  ruleSubject: () => undefined,
  run: writeTodos,
});
