/**
 * The prompt's text and cursor, edited by pure functions (emacs-style, line-aware) so the
 * keyboard hook stays a thin mapping and the editing rules are unit-tested.
 */

export interface EditorState {
  text: string;
  /** An offset into `text` (UTF-16 units, always on a code point boundary). */
  cursor: number;
}

export const EMPTY: EditorState = { text: "", cursor: 0 };

export function fromText(text: string): EditorState {
  return { text, cursor: text.length };
}

export function insert(state: EditorState, input: string): EditorState {
  const text = state.text.slice(0, state.cursor) + input + state.text.slice(state.cursor);
  return { text, cursor: state.cursor + input.length };
}

function prevBoundary(text: string, at: number): number {
  if (at <= 0) return 0;
  const code = text.charCodeAt(at - 1);
  return code >= 0xdc00 && code <= 0xdfff && at >= 2 ? at - 2 : at - 1;
}

function nextBoundary(text: string, at: number): number {
  if (at >= text.length) return text.length;
  const code = text.charCodeAt(at);
  return code >= 0xd800 && code <= 0xdbff ? at + 2 : at + 1;
}

export function backspace(state: EditorState): EditorState {
  const from = prevBoundary(state.text, state.cursor);
  return { text: state.text.slice(0, from) + state.text.slice(state.cursor), cursor: from };
}

export function deleteForward(state: EditorState): EditorState {
  const to = nextBoundary(state.text, state.cursor);
  return { text: state.text.slice(0, state.cursor) + state.text.slice(to), cursor: state.cursor };
}

export function left(state: EditorState): EditorState {
  return { ...state, cursor: prevBoundary(state.text, state.cursor) };
}

export function right(state: EditorState): EditorState {
  return { ...state, cursor: nextBoundary(state.text, state.cursor) };
}

function lineStartOf(text: string, at: number): number {
  return text.lastIndexOf("\n", at - 1) + 1;
}

function lineEndOf(text: string, at: number): number {
  const end = text.indexOf("\n", at);
  return end === -1 ? text.length : end;
}

export function lineStart(state: EditorState): EditorState {
  return { ...state, cursor: lineStartOf(state.text, state.cursor) };
}

export function lineEnd(state: EditorState): EditorState {
  return { ...state, cursor: lineEndOf(state.text, state.cursor) };
}

/** Ctrl-K: to the end of the line, or the newline itself when already there. */
export function killLineEnd(state: EditorState): EditorState {
  const end = lineEndOf(state.text, state.cursor);
  const to = end === state.cursor ? Math.min(end + 1, state.text.length) : end;
  return { text: state.text.slice(0, state.cursor) + state.text.slice(to), cursor: state.cursor };
}

export function killLineStart(state: EditorState): EditorState {
  const start = lineStartOf(state.text, state.cursor);
  return { text: state.text.slice(0, start) + state.text.slice(state.cursor), cursor: start };
}

function wordStartBefore(text: string, at: number): number {
  let i = at;
  while (i > 0 && /\s/.test(text[i - 1]!)) i--;
  while (i > 0 && !/\s/.test(text[i - 1]!)) i--;
  return i;
}

function wordEndAfter(text: string, at: number): number {
  let i = at;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  while (i < text.length && !/\s/.test(text[i]!)) i++;
  return i;
}

export function deleteWordBack(state: EditorState): EditorState {
  const from = wordStartBefore(state.text, state.cursor);
  return { text: state.text.slice(0, from) + state.text.slice(state.cursor), cursor: from };
}

export function wordLeft(state: EditorState): EditorState {
  return { ...state, cursor: wordStartBefore(state.text, state.cursor) };
}

export function wordRight(state: EditorState): EditorState {
  return { ...state, cursor: wordEndAfter(state.text, state.cursor) };
}

/** Moves to the same column on the previous line; undefined on the first line (history takes over). */
export function up(state: EditorState): EditorState | undefined {
  const start = lineStartOf(state.text, state.cursor);
  if (start === 0) return undefined;
  const column = state.cursor - start;
  const prevStart = lineStartOf(state.text, start - 1);
  return { ...state, cursor: Math.min(prevStart + column, start - 1) };
}

/** Moves to the same column on the next line; undefined on the last line. */
export function down(state: EditorState): EditorState | undefined {
  const end = lineEndOf(state.text, state.cursor);
  if (end === state.text.length) return undefined;
  const column = state.cursor - lineStartOf(state.text, state.cursor);
  const nextEnd = lineEndOf(state.text, end + 1);
  return { ...state, cursor: Math.min(end + 1 + column, nextEnd) };
}

/** A trailing backslash before the cursor asks for a newline instead of submitting. */
export function continuesLine(state: EditorState): boolean {
  return state.cursor > 0 && state.text[state.cursor - 1] === "\\";
}

export function replaceContinuation(state: EditorState): EditorState {
  return insert(backspace(state), "\n");
}
