/**
 * The conversation: finished items in Ink's <Static> (written once, never re-rendered, so long
 * sessions stay cheap), then the items still changing.
 */
import { Box, Static, Text } from "ink";
import { memo, type ReactNode, useMemo } from "react";
import { useTerminalSize } from "../hooks/use-terminal-size.ts";
import { Markdown } from "../markdown/markdown.tsx";
import { liveTail } from "../markdown/tail.ts";
import type { Item } from "../state.ts";
import { useUIState } from "../store.tsx";
import { useTheme } from "../theme.tsx";
import { ToolCall } from "./tool-call.tsx";

export function Transcript(): ReactNode {
  const { done, live, epoch, approvals } = useUIState();
  // <Static> is absolutely positioned, so without a width its rows do not shrink to the terminal.
  const { columns, rows } = useTerminalSize();
  const style = useMemo(() => ({ width: columns }), [columns]);
  // What the live area may give a streaming answer: the screen less the prompt box, status line,
  // and two rows per other live item (a tool call and its result line).
  const answerRows = Math.max(4, rows - LIVE_CHROME_ROWS - 2 * (live.length - 1));
  return (
    <>
      <Static key={epoch} items={done} style={style}>
        {(item) => <TranscriptItem key={item.key} item={item} />}
      </Static>
      {live.length > 0 ? (
        <Box flexDirection="column">
          {live.map((item) => (
            <TranscriptItem
              key={item.key}
              item={item}
              tail={{ rows: answerRows, columns }}
              awaitingApproval={
                item.kind === "tool" && approvals.some((pending) => pending.request.toolUseId === item.id)
              }
            />
          ))}
        </Box>
      ) : null}
    </>
  );
}

/** Rows the live area keeps for everything but the streaming answer. */
const LIVE_CHROME_ROWS = 10;

export const TranscriptItem = memo(function TranscriptItem({
  item,
  awaitingApproval = false,
  tail,
}: {
  item: Item;
  awaitingApproval?: boolean;
  /** Set for live items: a streaming answer shows only the end that fits. */
  tail?: { rows: number; columns: number };
}): ReactNode {
  const theme = useTheme();
  const body = (() => {
    switch (item.kind) {
      case "user":
        return (
          <Box flexDirection="row">
            <Box flexShrink={0}>
              <Text color={theme.user} bold>
                {"> "}
              </Text>
            </Box>
            <Text dimColor>{item.text}</Text>
          </Box>
        );
      case "assistant": {
        const shown = tail ? liveTail(item.text, tail.rows, tail.columns) : { text: item.text, hidden: 0 };
        return (
          <Box flexDirection="row">
            <Box flexShrink={0}>
              <Text>{"● "}</Text>
            </Box>
            <Box flexDirection="column" flexShrink={1} flexGrow={1}>
              {shown.hidden > 0 ? (
                <Text dimColor>… {shown.hidden} lines above (shown in full when the answer ends)</Text>
              ) : null}
              <Markdown text={shown.text} />
            </Box>
          </Box>
        );
      }
      case "tool":
        return <ToolCall item={item} awaitingApproval={awaitingApproval} />;
      case "notice":
        return (
          <Text
            color={item.tone === "error" ? theme.error : item.tone === "warning" ? theme.warning : undefined}
            dimColor={item.tone === "dim"}
          >
            {item.text}
          </Text>
        );
    }
  })();
  return <Box marginTop={1}>{body}</Box>;
});
