/**
 * Keybindings as data: command ids mapped to key specs. Hooks ask "which command is this key?"
 * in their scope; /help renders the same table.
 */
import type { Keypress } from "./input/keys.ts";

export interface KeySpec {
  name: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

export const KEYBINDINGS = {
  "app.interrupt": [{ name: "escape" }],
  "app.quit": [{ name: "c", ctrl: true }],
  "app.eof": [{ name: "d", ctrl: true }],
  "app.cycleMode": [{ name: "tab", shift: true }],
  "input.submit": [{ name: "return" }],
  "input.newline": [{ name: "return", shift: true }, { name: "return", meta: true }, { name: "linefeed" }],
  "input.left": [{ name: "left" }, { name: "b", ctrl: true }],
  "input.right": [{ name: "right" }, { name: "f", ctrl: true }],
  "input.wordLeft": [
    { name: "left", ctrl: true },
    { name: "left", meta: true },
    { name: "b", meta: true },
  ],
  "input.wordRight": [
    { name: "right", ctrl: true },
    { name: "right", meta: true },
    { name: "f", meta: true },
  ],
  "input.up": [{ name: "up" }, { name: "p", ctrl: true }],
  "input.down": [{ name: "down" }, { name: "n", ctrl: true }],
  "input.lineStart": [{ name: "a", ctrl: true }, { name: "home" }],
  "input.lineEnd": [{ name: "e", ctrl: true }, { name: "end" }],
  "input.killLineEnd": [{ name: "k", ctrl: true }],
  "input.killLineStart": [{ name: "u", ctrl: true }],
  "input.deleteWordBack": [
    { name: "w", ctrl: true },
    { name: "backspace", meta: true },
  ],
  "input.backspace": [{ name: "backspace" }],
  "input.delete": [{ name: "delete" }, { name: "d", ctrl: true }],
  "input.complete": [{ name: "tab" }],
  "select.up": [{ name: "up" }, { name: "k" }, { name: "p", ctrl: true }],
  "select.down": [{ name: "down" }, { name: "j" }, { name: "n", ctrl: true }, { name: "tab" }],
  "select.confirm": [{ name: "return" }],
  "select.cancel": [{ name: "escape" }],
} satisfies Record<string, KeySpec[]>;

export type Command = keyof typeof KEYBINDINGS;

function matches(spec: KeySpec, key: Keypress): boolean {
  const name = key.name === "text" ? key.text : key.name;
  return (
    spec.name === name &&
    (spec.ctrl ?? false) === key.ctrl &&
    (spec.meta ?? false) === key.meta &&
    (spec.shift ?? false) === key.shift
  );
}

/** The first command of `scope` (in order) bound to this key. */
export function commandFor<C extends Command>(key: Keypress, scope: readonly C[]): C | undefined {
  return scope.find((command) => KEYBINDINGS[command].some((spec) => matches(spec, key)));
}

export function describeKey(spec: KeySpec): string {
  const name =
    spec.name.length === 1 ? spec.name.toUpperCase() : spec.name[0]!.toUpperCase() + spec.name.slice(1);
  const mods = [spec.ctrl && "Ctrl", spec.meta && "Alt", spec.shift && "Shift"].filter(Boolean);
  return [...mods, name === "Return" ? "Enter" : name].join("+");
}
