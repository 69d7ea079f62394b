import { expect, test } from "bun:test";
import { Terminal } from "./terminal.ts";

const eraseLines = (count: number) => `${"\x1b[2K\x1b[1A".repeat(count - 1)}\x1b[2K\x1b[G`;

test("a frame erased the way Ink's log-update does it is replaced, not appended", () => {
  const terminal = new Terminal();
  terminal.write("static line\n");
  terminal.write("frame 1 a\nframe 1 b\n");
  // Ink erases the previous frame's lines (its line count includes the trailing empty one).
  terminal.write(`${eraseLines(3)}frame 2 a\nframe 2 b\nframe 2 c\n`);
  expect(terminal.text()).toBe("static line\nframe 2 a\nframe 2 b\nframe 2 c");
});

test("erasing screen and scrollback starts over at the top left", () => {
  const terminal = new Terminal();
  terminal.write("old 1\nold 2\n");
  terminal.write("\x1b[2J\x1b[3J\x1b[Hnew\n");
  expect(terminal.text()).toBe("new");
});

test("colours, modes and hyperlinks are ignored; cursor moves overwrite in place", () => {
  const terminal = new Terminal();
  terminal.write(
    "\x1b[?2026h\x1b[1m\x1b[31mred\x1b[39m\x1b[22m \x1b]8;;https://a.example\x07link\x1b]8;;\x07\x1b[?2026l",
  );
  terminal.write("\r\x1b[4Cwhat");
  terminal.write("\nx\x1b[1A\x1b[3G!");
  expect(terminal.text()).toBe("re! what\nx");
});
