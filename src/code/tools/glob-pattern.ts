/**
 * Glob patterns as regular expressions, with the rules of .gitignore (`**` across directories,
 * `*` and `?` within one, `[…]` classes) and, for user globs, `{a,b}` alternatives.
 */

export interface GlobOptions {
  /** Expand `{a,b}` (user globs); .gitignore has no braces. */
  braces?: boolean;
}

/** Source of a regex matching a whole slash-separated path (no anchors). */
export function globSource(pattern: string, options: GlobOptions = {}): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "\\" && i + 1 < pattern.length) {
      out += escapeChar(pattern[++i]!);
    } else if (char === "*") {
      if (pattern[i + 1] === "*") {
        const atStart = i === 0 || pattern[i - 1] === "/";
        const slashAfter = pattern[i + 2] === "/";
        i++;
        if (atStart && slashAfter) {
          out += "(?:.*/)?";
          i++;
        } else out += ".*";
      } else out += "[^/]*";
    } else if (char === "?") {
      out += "[^/]";
    } else if (char === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) out += "\\[";
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (options.braces && char === "{") {
      depth++;
      out += "(?:";
    } else if (options.braces && char === "}" && depth > 0) {
      depth--;
      out += ")";
    } else if (options.braces && char === "," && depth > 0) {
      out += "|";
    } else {
      out += escapeChar(char);
    }
  }
  return out;
}

function escapeChar(char: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(char) ? `\\${char}` : char;
}

export interface PathMatcher {
  /** `path` is relative with forward slashes; `name` its last part. */
  matches(path: string, name: string): boolean;
}

/**
 * A user glob as grep and ripgrep read it: with a slash it matches the relative path, without one
 * any file name at any depth (`*.ts`).
 */
export function nameOrPathGlob(pattern: string): PathMatcher {
  const bare = pattern.startsWith("/") ? pattern.slice(1) : pattern;
  const regex = new RegExp(`^${globSource(bare, { braces: true })}$`);
  const onPath = pattern.includes("/");
  return { matches: (path, name) => regex.test(onPath ? path : name) };
}

/** A glob as shells read it: always the whole relative path (`*.ts` only at the top). */
export function pathGlob(pattern: string): PathMatcher {
  const bare = pattern.startsWith("./") ? pattern.slice(2) : pattern;
  const regex = new RegExp(`^${globSource(bare, { braces: true })}$`);
  return { matches: (path) => regex.test(path) };
}
