/**
 * The prompt box's behaviour: editing, history, slash-command completion and submission. The
 * editor lives in a ref as well as in state because one input event can carry several keys
 * ("hello" then Enter) that must each see the previous one's result.
 */
import { useCallback, useMemo, useRef, useState } from "react";
import * as edit from "../input/editor.ts";
import { type History, HistoryCursor } from "../input/history.ts";
import type { Keypress } from "../input/keys.ts";
import { commandFor } from "../keybindings.ts";
import { runSlash, type SlashCommand, suggestions as suggest } from "../slash-commands.ts";
import { useUIActions, useUIState } from "../store.tsx";
import { useKeypress } from "./use-keypress.ts";

// app.eof before input.delete: Ctrl-D quits on an empty line and deletes otherwise.
const SCOPE = [
  "app.eof",
  "input.submit",
  "input.newline",
  "input.left",
  "input.right",
  "input.wordLeft",
  "input.wordRight",
  "input.up",
  "input.down",
  "input.lineStart",
  "input.lineEnd",
  "input.killLineEnd",
  "input.killLineStart",
  "input.deleteWordBack",
  "input.backspace",
  "input.delete",
  "input.complete",
] as const;

export interface PromptInput {
  editor: edit.EditorState;
  suggestions: SlashCommand[];
  selected: number;
  /** Empties the box; returns whether there was anything to clear. */
  clear(): boolean;
  setText(text: string): void;
}

export function usePromptInput(history: History, options: { isActive: boolean }): PromptInput {
  const state = useUIState();
  const actions = useUIActions();
  const [editor, setEditorState] = useState(edit.EMPTY);
  const [selected, setSelected] = useState(0);
  const editorRef = useRef(editor);
  const cursor = useMemo(() => new HistoryCursor(history), [history]);
  const stateRef = useRef(state);
  stateRef.current = state;

  const setEditor = useCallback((next: edit.EditorState) => {
    editorRef.current = next;
    setEditorState(next);
  }, []);
  const suggestions = suggest(editor.text);

  const submit = () => {
    let current = editorRef.current;
    const matches = suggest(current.text);
    if (matches.length > 0 && !matches.some((command) => `/${command.name}` === current.text)) {
      const chosen = matches[Math.min(selected, matches.length - 1)]!;
      current = edit.fromText(`/${chosen.name}`);
    }
    const text = current.text;
    if (text.trim() === "") return;
    history.add(text);
    cursor.reset();
    setEditor(edit.EMPTY);
    setSelected(0);
    if (!runSlash(text, { session: stateRef.current.session, state: stateRef.current, actions })) {
      actions.submit(text);
    }
  };

  const browse = (direction: "up" | "down") => {
    const current = editorRef.current;
    const matches = suggest(current.text);
    if (matches.length > 1) {
      setSelected((index) => (index + (direction === "up" ? matches.length - 1 : 1)) % matches.length);
      return;
    }
    const moved = direction === "up" ? edit.up(current) : edit.down(current);
    if (moved) return setEditor(moved);
    const entry = direction === "up" ? cursor.older(current.text) : cursor.newer();
    if (entry === undefined) return;
    // Up lands at the end of the entry's first line and Down at its end, so the next press keeps browsing.
    const firstLineEnd = entry.indexOf("\n");
    setEditor({
      text: entry,
      cursor: direction === "up" && firstLineEnd !== -1 ? firstLineEnd : entry.length,
    });
  };

  const onKey = (key: Keypress) => {
    const current = editorRef.current;
    if (key.name === "text" || key.name === "paste") {
      setSelected(0);
      return setEditor(edit.insert(current, key.text));
    }
    const command = commandFor(key, SCOPE);
    switch (command) {
      case "input.submit":
        return edit.continuesLine(current) ? setEditor(edit.replaceContinuation(current)) : submit();
      case "input.newline":
        return setEditor(edit.insert(current, "\n"));
      case "input.up":
        return browse("up");
      case "input.down":
        return browse("down");
      case "input.complete": {
        const matches = suggest(current.text);
        const chosen = matches[Math.min(selected, matches.length - 1)];
        if (chosen) setEditor(edit.fromText(`/${chosen.name}${chosen.args ? " " : ""}`));
        return;
      }
      case "app.eof":
        if (current.text === "") return actions.exit(0);
        return setEditor(edit.deleteForward(current));
      case undefined:
        return;
      default:
        setSelected(0);
        return setEditor(EDITS[command](current));
    }
  };
  useKeypress(onKey, options);

  return {
    editor,
    suggestions,
    selected: Math.min(selected, Math.max(0, suggestions.length - 1)),
    clear: () => {
      const had = editorRef.current.text !== "";
      setEditor(edit.EMPTY);
      cursor.reset();
      return had;
    },
    setText: (text) => setEditor(edit.fromText(text)),
  };
}

const EDITS: Record<
  Exclude<
    (typeof SCOPE)[number],
    "input.submit" | "input.newline" | "input.up" | "input.down" | "input.complete" | "app.eof"
  >,
  (state: edit.EditorState) => edit.EditorState
> = {
  "input.left": edit.left,
  "input.right": edit.right,
  "input.wordLeft": edit.wordLeft,
  "input.wordRight": edit.wordRight,
  "input.lineStart": edit.lineStart,
  "input.lineEnd": edit.lineEnd,
  "input.killLineEnd": edit.killLineEnd,
  "input.killLineStart": edit.killLineStart,
  "input.deleteWordBack": edit.deleteWordBack,
  "input.backspace": edit.backspace,
  "input.delete": edit.deleteForward,
};
