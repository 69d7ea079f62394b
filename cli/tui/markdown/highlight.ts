/**
 * Syntax highlighting for fenced code: highlight.js's HTML output (the documented form; only
 * `<span class="hljs-…">` and five entities) parsed back into scoped text segments per line.
 * Only the common languages are loaded; unknown or unlabelled fences stay plain rather than
 * being auto-detected, which is slow and often wrong on short snippets.
 */

/** The part of highlight.js used here. */
interface Highlighter {
  getLanguage(name: string): object | undefined;
  highlight(code: string, options: { language: string; ignoreIllegals?: boolean }): { value: string };
}

// require() rather than import: the package's own types pull TypeScript's DOM library into the
// whole project, where its ReadableStream then shadows Bun's.
const hljs = require("highlight.js/lib/common") as Highlighter;

export interface Segment {
  text: string;
  /** The innermost highlight.js scope ("keyword", "title.function"), if any. */
  scope?: string;
}

const ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&amp;": "&",
  "&quot;": '"',
  "&#x27;": "'",
};

function decode(text: string): string {
  return text.replace(/&(?:lt|gt|amp|quot|#x27);/g, (entity) => ENTITIES[entity] ?? entity);
}

function parseHtml(html: string): Segment[][] {
  const lines: Segment[][] = [[]];
  const scopes: (string | undefined)[] = [];
  const pattern = /<span class="([^"]*)">|<\/span>|([^<]+)/g;
  for (const match of html.matchAll(pattern)) {
    if (match[1] !== undefined) {
      const scope = match[1]
        .split(" ")
        .find((name) => name.startsWith("hljs-"))
        ?.slice(5)
        .replace(/_+$/, "");
      scopes.push(scope ?? scopes.at(-1));
    } else if (match[0] === "</span>") {
      scopes.pop();
    } else {
      const scope = scopes.at(-1);
      const parts = decode(match[2] ?? "").split("\n");
      parts.forEach((part, index) => {
        if (index > 0) lines.push([]);
        if (part !== "") lines.at(-1)!.push(scope ? { text: part, scope } : { text: part });
      });
    }
  }
  return lines;
}

export function highlightLines(code: string, language: string | undefined): Segment[][] {
  const lang = language?.trim().split(/\s+/)[0]?.toLowerCase();
  if (lang && hljs.getLanguage(lang)) {
    try {
      return parseHtml(hljs.highlight(code, { language: lang, ignoreIllegals: true }).value);
    } catch {
      // A grammar bug must not lose the code; show it plain.
    }
  }
  return code.split("\n").map((line) => (line === "" ? [] : [{ text: line }]));
}

/** "title.function" → the theme's colour for "title.function", else for "title". */
export function colourFor(
  scope: string | undefined,
  syntax: Record<string, string | undefined>,
): string | undefined {
  if (!scope) return undefined;
  if (scope in syntax) return syntax[scope];
  const [head, second] = scope.split(".");
  if (second && second in syntax) return syntax[second];
  return head ? syntax[head] : undefined;
}
