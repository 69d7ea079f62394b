/** Asks before a tool runs: what it will do (command, path, diff preview) and three answers. */
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import type { ApprovalRequest } from "../../../src/code/types.ts";
import { keyArgument, toolTitle } from "../format.ts";
import { approvalOptions, useApproval } from "../hooks/use-approval.ts";
import type { PendingApproval } from "../state.ts";
import { useUIActions } from "../store.tsx";
import { useTheme } from "../theme.tsx";
import { EditorView } from "./prompt-box.tsx";
import { Choices } from "./select-list.tsx";
import { Diff } from "./tool-call.tsx";

const PREVIEW_LINES = 20;

function text(input: Record<string, unknown>, ...fields: string[]): string | undefined {
  for (const field of fields) {
    const value = input[field];
    if (typeof value === "string") return value;
  }
  return undefined;
}

/** A unified-diff-looking preview of an edit or write, from the tool's input. */
function previewDiff(request: ApprovalRequest): string | undefined {
  const oldText = text(request.input, "old_string", "oldString");
  const newText = text(request.input, "new_string", "newString");
  if (oldText !== undefined && newText !== undefined) {
    const minus = oldText.split("\n").map((line) => `-${line}`);
    const plus = newText.split("\n").map((line) => `+${line}`);
    return [...minus, ...plus].join("\n");
  }
  const content = text(request.input, "content");
  if (content !== undefined)
    return content
      .split("\n")
      .map((line) => `+${line}`)
      .join("\n");
  return text(request.input, "diff", "patch");
}

function Preview({ request }: { request: ApprovalRequest }): ReactNode {
  const command = text(request.input, "command");
  if (command !== undefined) {
    const lines = command.split("\n");
    return (
      <Box flexDirection="column" paddingLeft={2}>
        {lines.slice(0, PREVIEW_LINES).map((line, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of one command never reorder
          <Text key={index}>{line}</Text>
        ))}
        {lines.length > PREVIEW_LINES ? (
          <Text dimColor>… {lines.length - PREVIEW_LINES} more lines</Text>
        ) : null}
        {text(request.input, "description") ? (
          <Text dimColor>{text(request.input, "description")}</Text>
        ) : null}
      </Box>
    );
  }
  const diff = previewDiff(request);
  const subject = keyArgument(request.input, 200);
  return (
    <Box flexDirection="column" paddingLeft={2}>
      {subject ? <Text>{subject}</Text> : null}
      {diff ? <Diff diff={diff} maxLines={PREVIEW_LINES} /> : null}
    </Box>
  );
}

export function ApprovalDialog({ pending }: { pending: PendingApproval }): ReactNode {
  const theme = useTheme();
  const actions = useUIActions();
  const { request } = pending;
  const { selected, message } = useApproval(request, (answer) => actions.answer(pending.key, answer));
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.warning} paddingX={1} marginTop={1}>
      <Text bold color={theme.warning}>
        {request.ruleName || toolTitle(request.tool)}
      </Text>
      <Preview request={request} />
      {request.reason ? <Text dimColor>{request.reason}</Text> : null}
      <Text>Do you want to proceed?</Text>
      <Choices options={approvalOptions(request)} selected={selected} />
      {message ? (
        <Box flexDirection="column">
          <Text>Tell the model what to do instead (Enter to send, Esc to just deny):</Text>
          <EditorView editor={message} active />
        </Box>
      ) : (
        <Text dimColor>Enter to confirm · Esc to deny</Text>
      )}
    </Box>
  );
}
