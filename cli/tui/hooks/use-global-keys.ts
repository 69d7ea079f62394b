/**
 * Keys that work whatever has focus: Esc interrupts the running turn, Ctrl-C clears / interrupts
 * and quits when pressed twice within two seconds, Shift+Tab cycles the permission mode.
 */
import { useEffect, useRef } from "react";
import type { PermissionMode } from "../../../src/code/types.ts";
import { commandFor } from "../keybindings.ts";
import { useUIActions, useUIState } from "../store.tsx";
import { useKeypress } from "./use-keypress.ts";
import type { PromptInput } from "./use-prompt-input.ts";

const QUIT_WINDOW_MS = 2000;
export const EXIT_CTRL_C = 130;

/** yolo is never entered by cycling; it is left for default. */
const NEXT_MODE: Record<PermissionMode, PermissionMode> = {
  default: "accept-edits",
  "accept-edits": "plan",
  plan: "default",
  yolo: "default",
};

export function useGlobalKeys(prompt: PromptInput): void {
  const state = useUIState();
  const actions = useUIActions();
  const armedAt = useRef<number | undefined>(undefined);
  const flashTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(flashTimer.current), []);
  const dialogOpen = state.approvals.length > 0 || state.picker !== undefined;

  useKeypress((key) => {
    const command = commandFor(key, ["app.quit", "app.interrupt", "app.cycleMode"]);
    if (command === "app.quit") {
      const now = Date.now();
      if (armedAt.current !== undefined && now - armedAt.current < QUIT_WINDOW_MS) {
        return actions.exit(EXIT_CTRL_C);
      }
      const approval = state.approvals[0];
      if (approval) actions.answer(approval.key, { kind: "deny" });
      if (state.picker) actions.openPicker(undefined);
      if (!state.busy && !approval && prompt.clear()) return;
      actions.interrupt();
      armedAt.current = now;
      actions.setFlash("Press Ctrl-C again to exit");
      clearTimeout(flashTimer.current);
      flashTimer.current = setTimeout(() => {
        armedAt.current = undefined;
        actions.setFlash(undefined);
      }, QUIT_WINDOW_MS);
      return;
    }
    if (command === "app.interrupt" && state.busy && !dialogOpen) {
      actions.interrupt();
      const queued = actions.takeQueue();
      if (queued.length > 0) prompt.setText([...queued, prompt.editor.text].filter(Boolean).join("\n"));
      return;
    }
    if (command === "app.cycleMode" && !dialogOpen) actions.setMode(NEXT_MODE[state.mode]);
  });
}
