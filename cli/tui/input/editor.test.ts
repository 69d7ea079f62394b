import { describe, expect, test } from "bun:test";
import * as edit from "./editor.ts";

const at = (text: string, cursor: number): edit.EditorState => ({ text, cursor });

describe("editor", () => {
  test("inserts at the cursor and deletes around it, by code point", () => {
    let state = edit.insert(at("ad", 1), "bc");
    expect(state).toEqual(at("abcd", 3));
    state = edit.backspace(state);
    expect(state).toEqual(at("abd", 2));
    expect(edit.deleteForward(state)).toEqual(at("ab", 2));
    expect(edit.backspace(at("a😀", 3))).toEqual(at("a", 1));
    expect(edit.left(at("a😀", 3))).toEqual(at("a😀", 1));
    expect(edit.right(at("a😀", 1))).toEqual(at("a😀", 3));
  });

  test("Ctrl-A/E/K/U work on the current line", () => {
    const text = "first\nsecond line\nthird";
    expect(edit.lineStart(at(text, 10)).cursor).toBe(6);
    expect(edit.lineEnd(at(text, 10)).cursor).toBe(17);
    expect(edit.killLineEnd(at(text, 12))).toEqual(at("first\nsecond\nthird", 12));
    expect(edit.killLineEnd(at("ab\ncd", 2))).toEqual(at("abcd", 2));
    expect(edit.killLineStart(at(text, 12))).toEqual(at("first\n line\nthird", 6));
  });

  test("Ctrl-W deletes the word before the cursor, and word motions skip spaces", () => {
    expect(edit.deleteWordBack(at("git commit  -m", 12))).toEqual(at("git -m", 4));
    expect(edit.wordLeft(at("one two", 7)).cursor).toBe(4);
    expect(edit.wordRight(at("one two", 0)).cursor).toBe(3);
  });

  test("up and down keep the column and report the first and last line", () => {
    const text = "abcdef\nxy\nlonger line";
    expect(edit.up(at(text, 3))).toBeUndefined();
    expect(edit.down(at(text, 5))).toEqual(at(text, 9));
    expect(edit.up(at(text, 9))).toEqual(at(text, 2));
    expect(edit.down(at(text, 8))).toEqual(at(text, 11));
    expect(edit.down(at(text, 12))).toBeUndefined();
  });

  test("a trailing backslash turns Enter into a newline", () => {
    const state = at("echo a \\", 8);
    expect(edit.continuesLine(state)).toBe(true);
    expect(edit.replaceContinuation(state)).toEqual(at("echo a \n", 8));
    expect(edit.continuesLine(at("echo", 4))).toBe(false);
  });
});
