/**
 * Turns what Ink's input parser emits (one escape sequence, or a run of plain text) into key
 * presses. Ink's own useInput cannot tell Backspace (DEL) from Delete, nor Shift+Enter under the
 * kitty protocol from a pasted carriage return, and it has no bracketed paste; the editor needs all three.
 */

export interface Keypress {
  /** "text" and "paste" carry `text`; everything else is a named key ("return", "up", "a" with ctrl…). */
  name: string;
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
  text: string;
}

const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";

const CSI_NAMES: Record<string, string> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  Z: "tab",
};

const TILDE_NAMES: Record<string, string> = {
  "1": "home",
  "2": "insert",
  "3": "delete",
  "4": "end",
  "5": "pageup",
  "6": "pagedown",
  "7": "home",
  "8": "end",
};

/** Kitty CSI-u code points for keys that are not printable text. */
const KITTY_NAMES: Record<number, string> = { 13: "return", 9: "tab", 27: "escape", 127: "backspace" };

function key(name: string, mods: Partial<Omit<Keypress, "name">> = {}): Keypress {
  return { name, ctrl: false, meta: false, shift: false, text: "", ...mods };
}

/** xterm's modifier parameter is 1 + (shift | alt << 1 | ctrl << 2 | meta << 3). */
function modifiers(param: string | undefined): Pick<Keypress, "ctrl" | "meta" | "shift"> {
  const bits = Math.max(0, Number(param ?? "1") - 1);
  return { shift: (bits & 1) !== 0, meta: (bits & 2) !== 0 || (bits & 8) !== 0, ctrl: (bits & 4) !== 0 };
}

function parseCsi(body: string): Keypress | undefined {
  const final = body.at(-1) ?? "";
  const params = body.slice(0, -1).split(";");
  if (final === "u") {
    const code = Number(params[0]);
    const mods = modifiers(params[1]);
    const named = KITTY_NAMES[code];
    if (named) return key(named, mods);
    const char = String.fromCodePoint(code);
    if (mods.ctrl || mods.meta) return key(char.toLowerCase(), mods);
    return key("text", { text: mods.shift ? char.toUpperCase() : char });
  }
  if (final === "~") {
    const name = TILDE_NAMES[params[0] ?? ""];
    return name ? key(name, modifiers(params[1])) : undefined;
  }
  const name = CSI_NAMES[final];
  if (!name) return undefined;
  const mods = modifiers(params[1]);
  return key(name, final === "Z" ? { ...mods, shift: true } : mods);
}

function parseSequence(seq: string): Keypress | undefined {
  if (seq.startsWith("\x1b[")) return parseCsi(seq.slice(2));
  if (seq.startsWith("\x1bO") && seq.length === 3) {
    const name = CSI_NAMES[seq[2] ?? ""];
    return name ? key(name) : undefined;
  }
  if (seq === "\x1b" || seq === "\x1b\x1b") return key("escape");
  if (seq.startsWith("\x1b")) {
    // Alt+key arrives as ESC followed by the key.
    const [inner] = parsePlain(seq.slice(1));
    return inner
      ? { ...inner, meta: true, name: inner.name === "text" ? inner.text : inner.name, text: "" }
      : undefined;
  }
  return undefined;
}

function controlKey(char: string): Keypress | undefined {
  const code = char.charCodeAt(0);
  if (char === "\r") return key("return");
  if (char === "\n") return key("linefeed");
  if (char === "\t") return key("tab");
  if (char === "\x7f" || char === "\b") return key("backspace");
  if (code >= 1 && code <= 26) return key(String.fromCharCode(code + 96), { ctrl: true });
  return undefined;
}

/** Plain text: control characters become keys, the runs between them text. */
function parsePlain(chunk: string): Keypress[] {
  const keys: Keypress[] = [];
  let run = "";
  for (const char of chunk) {
    const control = controlKey(char);
    if (!control) {
      run += char;
      continue;
    }
    if (run) keys.push(key("text", { text: run }));
    run = "";
    keys.push(control);
  }
  if (run) keys.push(key("text", { text: run }));
  return keys;
}

/** Stateful because a bracketed paste spans several input events. */
export class KeyDecoder {
  private paste: string | undefined;

  push(event: string): Keypress[] {
    if (this.paste !== undefined) {
      if (event !== PASTE_END) {
        this.paste += event;
        return [];
      }
      const text = this.paste.replace(/\r\n?/g, "\n");
      this.paste = undefined;
      return [key("paste", { text })];
    }
    if (event === PASTE_START) {
      this.paste = "";
      return [];
    }
    if (event.startsWith("\x1b")) {
      const parsed = parseSequence(event);
      return parsed ? [parsed] : [];
    }
    return parsePlain(event);
  }
}
