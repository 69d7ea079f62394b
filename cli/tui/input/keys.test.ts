import { describe, expect, test } from "bun:test";
import { KeyDecoder, type Keypress } from "./keys.ts";

function decode(...events: string[]): Partial<Keypress>[] {
  const decoder = new KeyDecoder();
  return events
    .flatMap((event) => decoder.push(event))
    .map(({ name, ctrl, meta, shift, text }) => {
      const out: Partial<Keypress> = { name };
      if (ctrl) out.ctrl = true;
      if (meta) out.meta = true;
      if (shift) out.shift = true;
      if (text) out.text = text;
      return out;
    });
}

describe("KeyDecoder", () => {
  test("tells Backspace (DEL) from Delete and Enter from Ctrl-J", () => {
    expect(decode("\x7f", "\x1b[3~", "\r", "\n")).toEqual([
      { name: "backspace" },
      { name: "delete" },
      { name: "return" },
      { name: "linefeed" },
    ]);
  });

  test("Alt+Enter, kitty Shift+Enter and Shift+Tab carry their modifiers", () => {
    expect(decode("\x1b\r", "\x1b[13;2u", "\x1b[Z")).toEqual([
      { name: "return", meta: true },
      { name: "return", shift: true },
      { name: "tab", shift: true },
    ]);
  });

  test("control letters, arrows with modifiers, alt letters", () => {
    expect(decode("\x01", "\x1b[1;5D", "\x1bOA", "\x1bb", "\x1b\x7f", "\x1b[99;5u")).toEqual([
      { name: "a", ctrl: true },
      { name: "left", ctrl: true },
      { name: "up" },
      { name: "b", meta: true },
      { name: "backspace", meta: true },
      { name: "c", ctrl: true },
    ]);
  });

  test("a typed run ending in a carriage return is text then Enter", () => {
    expect(decode("hello\r")).toEqual([{ name: "text", text: "hello" }, { name: "return" }]);
  });

  test("a bracketed paste is one key whatever it contains, across events", () => {
    expect(decode("\x1b[200~", "line 1\r\nline 2\r", "\x1b", "[3~ tail", "\x1b[201~", "x")).toEqual([
      { name: "paste", text: "line 1\nline 2\n\x1b[3~ tail" },
      { name: "text", text: "x" },
    ]);
  });

  test("unknown sequences are dropped instead of typed", () => {
    expect(decode("\x1b[999x")).toEqual([]);
  });
});
