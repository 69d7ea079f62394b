/** A vertical choice list: arrows (or j/k, Tab), digits 1-9 to pick directly, Enter, Esc. */
import { useState } from "react";
import type { Keypress } from "../input/keys.ts";
import { commandFor } from "../keybindings.ts";
import { useKeypress } from "./use-keypress.ts";

export interface SelectOptions {
  count: number;
  initial?: number;
  isActive: boolean;
  onPick(index: number): void;
  onCancel(): void;
  /** Keys the list does not use, for callers that add their own. */
  onOtherKey?(key: Keypress): void;
}

export function useSelect({
  count,
  initial = 0,
  isActive,
  onPick,
  onCancel,
  onOtherKey,
}: SelectOptions): number {
  const [selected, setSelected] = useState(initial);
  useKeypress(
    (key) => {
      const digit = key.name === "text" && /^[1-9]$/.test(key.text) ? Number(key.text) - 1 : -1;
      if (digit >= 0) {
        if (digit < count) {
          setSelected(digit);
          onPick(digit);
        }
        return;
      }
      switch (commandFor(key, ["select.up", "select.down", "select.confirm", "select.cancel"])) {
        case "select.up":
          return setSelected((index) => (index + count - 1) % count);
        case "select.down":
          return setSelected((index) => (index + 1) % count);
        case "select.confirm":
          return onPick(selected);
        case "select.cancel":
          return onCancel();
        default:
          onOtherKey?.(key);
      }
    },
    { isActive },
  );
  return selected;
}
