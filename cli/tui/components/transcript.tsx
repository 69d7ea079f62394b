/**
 * The conversation: finished items in Ink's <Static> (written once, never re-rendered, so long
 * sessions stay cheap), then the items still changing.
 */
import { Box, Static, Text } from "ink";
import { memo, type ReactNode, useMemo } from "react";
import { useColumns } from "../hooks/use-columns.ts";
import { Markdown } from "../markdown/markdown.tsx";
import type { Item } from "../state.ts";
import { useUIState } from "../store.tsx";
import { useTheme } from "../theme.tsx";
import { ToolCall } from "./tool-call.tsx";

export function Transcript(): ReactNode {
  const { done, live, epoch, approvals } = useUIState();
  // <Static> is absolutely positioned, so without a width its rows do not shrink to the terminal.
  const columns = useColumns();
  const style = useMemo(() => ({ width: columns }), [columns]);
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

export const TranscriptItem = memo(function TranscriptItem({
  item,
  awaitingApproval = false,
}: {
  item: Item;
  awaitingApproval?: boolean;
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
      case "assistant":
        return (
          <Box flexDirection="row">
            <Box flexShrink={0}>
              <Text>{"● "}</Text>
            </Box>
            <Box flexDirection="column" flexShrink={1} flexGrow={1}>
              <Markdown text={item.text} />
            </Box>
          </Box>
        );
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
