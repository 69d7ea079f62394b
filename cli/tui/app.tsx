/** The screen, top to bottom: transcript, activity, dialog or prompt, status line. */
import { Box } from "ink";
import type { ReactNode } from "react";
import { ApprovalDialog } from "./components/approval-dialog.tsx";
import { PromptBox } from "./components/prompt-box.tsx";
import { PickerDialog } from "./components/select-list.tsx";
import { Activity, StatusLine } from "./components/status-line.tsx";
import { Transcript } from "./components/transcript.tsx";
import { useGlobalKeys } from "./hooks/use-global-keys.ts";
import { usePromptInput } from "./hooks/use-prompt-input.ts";
import type { History } from "./input/history.ts";
import { useUIState } from "./store.tsx";

export function App({ history }: { history: History }): ReactNode {
  const state = useUIState();
  const approval = state.approvals[0];
  const inputActive = approval === undefined && state.picker === undefined;
  const prompt = usePromptInput(history, { isActive: inputActive });
  useGlobalKeys(prompt);
  return (
    <Box flexDirection="column">
      <Transcript />
      <Activity />
      {approval ? <ApprovalDialog key={approval.key} pending={approval} /> : null}
      {!approval && state.picker ? <PickerDialog picker={state.picker} /> : null}
      <PromptBox
        editor={prompt.editor}
        active={inputActive}
        queue={state.queue}
        suggestions={inputActive ? prompt.suggestions : []}
        selected={prompt.selected}
      />
      <StatusLine />
    </Box>
  );
}
