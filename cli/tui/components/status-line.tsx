/** Below the prompt: a spinner with elapsed time while the agent works, then model, mode, context and cost. */
import { Box, Text } from "ink";
import { type ReactNode, useEffect, useState } from "react";
import { contextPercent, formatElapsed, formatUsd } from "../format.ts";
import { useUIState } from "../store.tsx";
import { useTheme } from "../theme.tsx";
import { TodoList } from "./tool-call.tsx";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function Spinner({ since, label }: { since: number; label: string }): ReactNode {
  const theme = useTheme();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, []);
  const frame = FRAMES[Math.floor(now / 100) % FRAMES.length];
  return (
    <Text>
      <Text color={theme.accent}>{frame} </Text>
      <Text>{label}</Text>
      <Text dimColor> ({formatElapsed(now - since)} · Esc to interrupt)</Text>
    </Text>
  );
}

/** Above the prompt while the agent works: the spinner and the open todo list. */
export function Activity(): ReactNode {
  const state = useUIState();
  const waiting = state.approvals.length > 0;
  // The plan matters while the agent works on it; between turns it would only crowd the prompt.
  const openTodos = state.busy && state.todos.some((todo) => todo.status !== "completed");
  const spinning = state.busy && state.turnStartedAt !== undefined && !waiting;
  if (!spinning && !openTodos) return null;
  return (
    <Box flexDirection="column" marginTop={1}>
      {spinning && state.turnStartedAt !== undefined ? (
        <Spinner since={state.turnStartedAt} label={state.thinking ? "Thinking…" : "Working…"} />
      ) : null}
      {openTodos ? (
        <Box paddingLeft={2}>
          <TodoList items={state.todos} />
        </Box>
      ) : null}
    </Box>
  );
}

export function StatusLine(): ReactNode {
  const state = useUIState();
  const theme = useTheme();
  const percent = contextPercent(state.contextTokens, state.contextWindow);
  const parts = [
    state.model,
    state.mode === "default" ? undefined : `${state.mode} mode (Shift+Tab)`,
    percent === undefined ? undefined : `${percent}% context`,
    formatUsd(state.total.costUsd),
  ].filter(Boolean);
  return (
    <Box flexDirection="column" paddingLeft={2}>
      {state.flash ? <Text color={theme.warning}>{state.flash}</Text> : null}
      <Text dimColor wrap="truncate-end">
        {parts.join(" · ")}
      </Text>
    </Box>
  );
}
