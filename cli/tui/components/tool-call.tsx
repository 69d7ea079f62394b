/** A tool call, collapsed: `● Read(src/a.ts)` then `⎿ summary`, plus a diff or a todo list. */
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import type { TodoItem } from "../../../src/code/types.ts";
import { firstLine, keyArgument, oneLine, toolTitle } from "../format.ts";
import type { Item } from "../state.ts";
import { useTheme } from "../theme.tsx";

const MAX_DIFF_LINES = 40;
/** A running subagent shows its latest few tool calls; the rest is counted. */
const SUBAGENT_STEPS_SHOWN = 3;

export function ToolCall({
  item,
  awaitingApproval,
}: {
  item: Extract<Item, { kind: "tool" }>;
  awaitingApproval: boolean;
}): ReactNode {
  const theme = useTheme();
  const result = item.result;
  const argument = keyArgument(item.input);
  const dot = result ? (result.isError ? theme.error : theme.success) : undefined;
  const summary = result
    ? (result.summary ?? (firstLine(result.content) || (result.isError ? "Failed" : "Done")))
    : item.denied
      ? `Denied: ${item.denied}`
      : awaitingApproval
        ? "Waiting for approval…"
        : item.input
          ? "Running…"
          : "…";
  const steps = item.steps ?? [];
  const counted = steps.length > 0 ? ` (${steps.length} tool use${steps.length === 1 ? "" : "s"})` : "";
  const recent = result ? [] : steps.slice(-SUBAGENT_STEPS_SHOWN);
  return (
    <Box flexDirection="column">
      <Text>
        <Text color={dot} dimColor={!result}>
          ●{" "}
        </Text>
        <Text bold>{toolTitle(item.name)}</Text>
        {argument ? <Text>({argument})</Text> : null}
      </Text>
      <Box flexDirection="row" paddingLeft={2}>
        <Box flexShrink={0}>
          <Text dimColor>⎿ </Text>
        </Box>
        <Box flexDirection="column" flexShrink={1}>
          {recent.map((step, index) => {
            const stepArgument = keyArgument(step.input);
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: steps are only appended
              <Text key={steps.length - recent.length + index} dimColor>
                {toolTitle(step.name)}
                {stepArgument ? `(${oneLine(stepArgument, 120)})` : ""}
              </Text>
            );
          })}
          <Text color={result?.isError ? theme.error : undefined} dimColor={!result?.isError}>
            {oneLine(summary, 200)}
            {counted}
          </Text>
          {result?.display?.kind === "diff" ? <Diff diff={result.display.diff} /> : null}
          {result?.display?.kind === "todo" ? <TodoList items={result.display.items} /> : null}
        </Box>
      </Box>
    </Box>
  );
}

export function Diff({ diff, maxLines = MAX_DIFF_LINES }: { diff: string; maxLines?: number }): ReactNode {
  const theme = useTheme();
  const lines = diff.replace(/\n$/, "").split("\n");
  const shown = lines.slice(0, maxLines);
  return (
    <Box flexDirection="column">
      {shown.map((line, index) => {
        const header = line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ");
        const color = header
          ? undefined
          : line.startsWith("+")
            ? theme.diffAdd
            : line.startsWith("-")
              ? theme.diffRemove
              : line.startsWith("@@")
                ? theme.diffHunk
                : undefined;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: diff lines never reorder
          <Text key={index} color={color} dimColor={header || color === undefined} bold={header}>
            {line === "" ? " " : line}
          </Text>
        );
      })}
      {lines.length > shown.length ? <Text dimColor>… {lines.length - shown.length} more lines</Text> : null}
    </Box>
  );
}

export function TodoList({ items }: { items: readonly TodoItem[] }): ReactNode {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      {items.map((todo, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a todo list is replaced whole, never reordered in place
        <Text key={index}>
          <Text color={todo.status === "in_progress" ? theme.accent : undefined}>
            {todo.status === "completed" ? "☒" : "☐"}{" "}
          </Text>
          <Text
            bold={todo.status === "in_progress"}
            dimColor={todo.status === "completed"}
            strikethrough={todo.status === "completed"}
          >
            {todo.content}
          </Text>
        </Text>
      ))}
    </Box>
  );
}
