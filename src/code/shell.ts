/**
 * Splits a shell command line into the simple commands it would run, so that a permission rule
 * for `git status` cannot be stretched over `git status && rm -rf ~`. Separators (`;`, `&&`, `||`,
 * `|`, `|&`, `&`, newlines, subshell parentheses) split; the bodies of `$(…)`, backticks and
 * `<(…)`/`>(…)` are commands of their own (also inside double quotes and unquoted heredocs);
 * single quotes and quoted heredoc bodies are inert text. This is not a shell: when in doubt it
 * yields more pieces, which makes an allow rule harder to satisfy, never easier.
 */

interface Heredoc {
  delimiter: string;
  /** `<<'EOF'`: the body is literal; otherwise `$(…)` in it runs. */
  quoted: boolean;
  stripTabs: boolean;
}

interface Scan {
  /** Index just past what was consumed (past the closing `)` when scanning a substitution). */
  end: number;
}

const LEADING_WORDS = new Set(["!", "{", "(", "if", "then", "else", "elif", "do", "while", "until", "time"]);
const CLOSING_WORDS = new Set(["}", ")", "fi", "done", "esac", ";;"]);

/** The simple commands of `command`, trimmed, in order of appearance; never empty for a non-blank line. */
export function splitCommand(command: string): string[] {
  const parts: string[] = [];
  scanCommands(command, 0, false, parts);
  return parts.map(cleanPart).filter((part) => part !== "");
}

/** Drops the shell keywords that wrap a command so `then rm -rf x` is matched as `rm -rf x`. */
function cleanPart(raw: string): string {
  let text = raw.trim();
  for (let first = /^(\S+)\s*/.exec(text); first !== null; first = /^(\S+)\s*/.exec(text)) {
    if (!LEADING_WORDS.has(first[1] as string)) break;
    text = text.slice(first[0].length);
  }
  // Closing words only close in command position, so they always stand alone.
  if (CLOSING_WORDS.has(text)) return "";
  return text;
}

/**
 * Scans commands from `start`, pushing finished simple commands onto `out`. With `inParens` it stops
 * at the `)` that closes the substitution it was called for.
 */
function scanCommands(src: string, start: number, inParens: boolean, out: string[]): Scan {
  let current = "";
  let depth = 0;
  let i = start;
  const heredocs: Heredoc[] = [];
  const flush = () => {
    out.push(current);
    current = "";
  };
  while (i < src.length) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === "\\") {
      // A line continuation joins lines; any other escape keeps the next character literal.
      if (next !== "\n") current += src.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      const stop = close === -1 ? src.length : close + 1;
      current += src.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === "$" && next === "'") {
      const stop = skipAnsiQuote(src, i + 2);
      current += src.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '"') {
      const stop = scanExpanding(src, i + 1, '"', out);
      current += src.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === "`") {
      const stop = scanBackticks(src, i + 1, out);
      current += src.slice(i, stop);
      i = stop;
      continue;
    }
    if ((c === "$" || c === "<" || c === ">") && next === "(") {
      const inner = scanCommands(src, i + 2, true, out);
      current += src.slice(i, inner.end);
      i = inner.end;
      continue;
    }
    if (c === "<" && next === "<" && src[i + 2] !== "<") {
      const parsed = parseHeredocStart(src, i + 2);
      if (parsed !== undefined) {
        heredocs.push(parsed.heredoc);
        current += src.slice(i, parsed.end);
        i = parsed.end;
        continue;
      }
    }
    if (c === "#" && (i === start || /\s/.test(src[i - 1] as string))) {
      // A comment runs to the end of the line; nothing in it executes.
      const newline = src.indexOf("\n", i);
      i = newline === -1 ? src.length : newline;
      continue;
    }
    if (c === "\n") {
      flush();
      i++;
      for (const heredoc of heredocs.splice(0)) i = skipHeredocBody(src, i, heredoc, out);
      continue;
    }
    if (c === ";") {
      flush();
      i += next === ";" ? 2 : 1;
      continue;
    }
    if (c === "|") {
      flush();
      i += next === "|" || next === "&" ? 2 : 1;
      continue;
    }
    if (c === "&") {
      const previous = src[i - 1];
      const isRedirect = next === ">" || previous === ">" || previous === "<";
      if (!isRedirect) {
        flush();
        i += next === "&" ? 2 : 1;
        continue;
      }
    }
    if (c === "(") {
      depth++;
      flush();
      i++;
      continue;
    }
    if (c === ")") {
      if (inParens && depth === 0) {
        flush();
        return { end: i + 1 };
      }
      depth = Math.max(0, depth - 1);
      flush();
      i++;
      continue;
    }
    current += c;
    i++;
  }
  flush();
  return { end: src.length };
}

/**
 * Scans text where only substitutions run (inside double quotes, an unquoted heredoc body) up to
 * `terminator` (or the end); returns the index past the terminator.
 */
function scanExpanding(src: string, start: number, terminator: string | undefined, out: string[]): number {
  let i = start;
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === "\\") {
      i += 2;
    } else if (c === terminator) {
      return i + 1;
    } else if (c === "`") {
      i = scanBackticks(src, i + 1, out);
    } else if (c === "$" && next === "(") {
      i = scanCommands(src, i + 2, true, out).end;
    } else {
      i++;
    }
  }
  return src.length;
}

/** The body of a backtick substitution is itself a command line (with `\`` unescaped). */
function scanBackticks(src: string, start: number, out: string[]): number {
  let i = start;
  let body = "";
  while (i < src.length && src[i] !== "`") {
    if (src[i] === "\\" && i + 1 < src.length) {
      body +=
        src[i + 1] === "`" || src[i + 1] === "\\" || src[i + 1] === "$" ? src[i + 1] : src.slice(i, i + 2);
      i += 2;
    } else {
      body += src[i];
      i++;
    }
  }
  scanCommands(body, 0, false, out);
  return Math.min(src.length, i + 1);
}

function skipAnsiQuote(src: string, start: number): number {
  let i = start;
  while (i < src.length) {
    if (src[i] === "\\") i += 2;
    else if (src[i] === "'") return i + 1;
    else i++;
  }
  return src.length;
}

function parseHeredocStart(src: string, start: number): { heredoc: Heredoc; end: number } | undefined {
  let i = start;
  const stripTabs = src[i] === "-";
  if (stripTabs) i++;
  while (src[i] === " " || src[i] === "\t") i++;
  const quote = src[i];
  if (quote === "'" || quote === '"') {
    const close = src.indexOf(quote, i + 1);
    if (close === -1) return undefined;
    return { heredoc: { delimiter: src.slice(i + 1, close), quoted: true, stripTabs }, end: close + 1 };
  }
  const word = /^[^\s;&|<>()]+/.exec(src.slice(i));
  if (word === null) return undefined;
  const quoted = word[0].includes("\\");
  return {
    heredoc: { delimiter: word[0].replaceAll("\\", ""), quoted, stripTabs },
    end: i + word[0].length,
  };
}

/** Skips a heredoc body starting at `start` (a line start); returns the index after its delimiter line. */
function skipHeredocBody(src: string, start: number, heredoc: Heredoc, out: string[]): number {
  let i = start;
  while (i < src.length) {
    const newline = src.indexOf("\n", i);
    const lineEnd = newline === -1 ? src.length : newline;
    const line = src.slice(i, lineEnd);
    const candidate = heredoc.stripTabs ? line.replace(/^\t+/, "") : line;
    if (candidate === heredoc.delimiter) return Math.min(src.length, lineEnd + 1);
    if (!heredoc.quoted) scanExpanding(line, 0, undefined, out);
    i = lineEnd + 1;
  }
  return src.length;
}
