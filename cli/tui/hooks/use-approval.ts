/**
 * The approval dialog's behaviour: pick one of three answers, or type what the model should do
 * instead. Esc always denies.
 */
import { useState } from "react";
import type { ApprovalAnswer, ApprovalRequest } from "../../../src/code/types.ts";
import * as edit from "../input/editor.ts";
import { commandFor } from "../keybindings.ts";
import { useKeypress } from "./use-keypress.ts";
import { useSelect } from "./use-select.ts";

export function approvalOptions(request: ApprovalRequest): string[] {
  return [
    "Yes",
    `Yes, and don't ask again for ${request.suggestedRule}`,
    "No, and tell the model what to do differently",
  ];
}

export interface ApprovalDialogState {
  selected: number;
  /** Set while the user types the message that goes with "No". */
  message: edit.EditorState | undefined;
}

export function useApproval(
  request: ApprovalRequest,
  answer: (answer: ApprovalAnswer) => void,
): ApprovalDialogState {
  const [message, setMessage] = useState<edit.EditorState | undefined>();
  const selected = useSelect({
    count: 3,
    isActive: message === undefined,
    onPick: (index) => {
      if (index === 0) answer({ kind: "allow_once" });
      else if (index === 1) answer({ kind: "allow_always", rule: request.suggestedRule });
      else setMessage(edit.EMPTY);
    },
    onCancel: () => answer({ kind: "deny" }),
  });
  useKeypress(
    (key) => {
      if (message === undefined) return;
      if (key.name === "text" || key.name === "paste") return setMessage(edit.insert(message, key.text));
      switch (
        commandFor(key, [
          "select.cancel",
          "input.submit",
          "input.backspace",
          "input.left",
          "input.right",
          "input.killLineStart",
          "input.deleteWordBack",
        ])
      ) {
        case "select.cancel":
          return answer({ kind: "deny" });
        case "input.submit": {
          const text = message.text.trim();
          return answer(text ? { kind: "deny", message: text } : { kind: "deny" });
        }
        case "input.backspace":
          return setMessage(edit.backspace(message));
        case "input.left":
          return setMessage(edit.left(message));
        case "input.right":
          return setMessage(edit.right(message));
        case "input.killLineStart":
          return setMessage(edit.killLineStart(message));
        case "input.deleteWordBack":
          return setMessage(edit.deleteWordBack(message));
      }
    },
    { isActive: message !== undefined },
  );
  return { selected, message };
}
