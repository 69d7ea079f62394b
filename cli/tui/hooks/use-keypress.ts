/**
 * useKeypress(handler, { isActive }): decoded key presses from Ink's stdin. Several hooks may be
 * active at once as long as their scopes do not overlap (see keybindings.ts).
 */
import { useStdin } from "ink";
import { useLayoutEffect, useRef } from "react";
import { KeyDecoder, type Keypress } from "../input/keys.ts";

export function useKeypress(handler: (key: Keypress) => void, options: { isActive?: boolean } = {}): void {
  const { internal_eventEmitter: events, setRawMode, isRawModeSupported } = useStdin();
  const isActive = options.isActive ?? true;
  // The latest handler without re-subscribing on every render (handlers close over state).
  const latest = useRef(handler);
  latest.current = handler;

  // A layout effect subscribes in the same commit that renders the frame, so a key pressed as soon
  // as a dialog appears on screen reaches it; a passive effect could run after the frame is shown.
  useLayoutEffect(() => {
    if (!isActive || !isRawModeSupported) return;
    setRawMode(true);
    const decoder = new KeyDecoder();
    const onInput = (data: string) => {
      for (const key of decoder.push(data)) latest.current(key);
    };
    events.on("input", onInput);
    return () => {
      events.off("input", onInput);
      setRawMode(false);
    };
  }, [isActive, events, setRawMode, isRawModeSupported]);
}
