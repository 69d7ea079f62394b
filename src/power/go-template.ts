/**
 * A parser for the subset of Go's text/template that Ollama's prompt templates use: text, actions
 * with `{{-`/`-}}` trimming, comments, pipelines, variables, parenthesised calls, field chains,
 * literals and the if/else/range/with/break/continue control structures. `define`, `template` and
 * `block` are refused: no Ollama template uses them, and Ollama never executes named templates.
 * The tree mirrors text/template/parse closely enough that Ollama's tree walks (which variables a
 * template reads, where `.Response` cuts the last turn) can be written as it writes them.
 */
import { A3sError } from "../core/errors.ts";

export type Arg =
  | { kind: "field"; pos: number; ident: string[] }
  | { kind: "variable"; pos: number; ident: string[] }
  | { kind: "dot"; pos: number }
  | { kind: "nil"; pos: number }
  | { kind: "function"; pos: number; name: string }
  | { kind: "literal"; pos: number; value: string | number | boolean }
  | { kind: "pipe"; pos: number; pipe: Pipe }
  | { kind: "chain"; pos: number; node: Arg; fields: string[] };

export interface Command {
  pos: number;
  args: Arg[];
}

export interface Pipe {
  pos: number;
  /** Variables the pipeline declares (`$x :=`, `$i, $v :=`) or assigns (`$x =`). */
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

export interface ControlNode {
  kind: "if" | "with" | "range";
  pos: number;
  pipe: Pipe;
  list: TemplateNode[];
  elseList?: TemplateNode[];
}

export type TemplateNode =
  | { kind: "text"; pos: number; text: string }
  | { kind: "action"; pos: number; pipe: Pipe }
  | ControlNode
  | { kind: "break" | "continue"; pos: number };

/** The functions a template may call; anything else is a parse error, as in Go. */
export const FUNCTION_NAMES = new Set([
  "and",
  "or",
  "not",
  "len",
  "index",
  "slice",
  "print",
  "printf",
  "println",
  "html",
  "js",
  "urlquery",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  // Ollama's additions (template/template.go)
  "json",
  "currentDate",
  "yesterdayDate",
  "toTypeScriptType",
]);

/** `line:column` (1-based) of an offset, for error messages. */
export function position(source: string, pos: number): string {
  const before = source.slice(0, pos);
  const line = before.split("\n").length;
  return `${line}:${pos - before.lastIndexOf("\n")}`;
}

export function templateError(source: string, pos: number, message: string): A3sError {
  return new A3sError("usage", `template:${position(source, pos)}: ${message}`);
}

type Token =
  | { t: "field"; pos: number; name: string; joined: boolean }
  | { t: "variable"; pos: number; name: string }
  | { t: "dot"; pos: number; joined: boolean }
  | { t: "word"; pos: number; name: string }
  | { t: "literal"; pos: number; value: string | number | boolean }
  | { t: "punct"; pos: number; value: "|" | "(" | ")" | ":=" | "=" | "," }
  | { t: "space"; pos: number }
  | { t: "end"; pos: number };

const SPACE = /[ \t\r\n]/;
const IDENT = /[\p{L}\p{N}_]/u;
const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/** Splits a template into text and action token streams, applying the trim markers. */
class Lexer {
  pos = 0;
  constructor(readonly src: string) {}

  fail(pos: number, message: string): never {
    throw templateError(this.src, pos, message);
  }

  /** Reads one action's tokens after `{{`; returns them and whether `-}}` trims what follows. */
  action(actionPos: number): { tokens: Token[]; trimRight: boolean } {
    const tokens: Token[] = [];
    const src = this.src;
    for (;;) {
      const start = this.pos;
      const c = src[this.pos];
      if (c === undefined) this.fail(actionPos, "unclosed action");
      if (SPACE.test(c)) {
        while (this.pos < src.length && SPACE.test(src[this.pos]!)) this.pos++;
        if (src.startsWith("-}}", this.pos)) {
          this.pos += 3;
          return { tokens, trimRight: true };
        }
        tokens.push({ t: "space", pos: start });
        continue;
      }
      if (src.startsWith("}}", this.pos)) {
        this.pos += 2;
        return { tokens, trimRight: false };
      }
      const previous = tokens.at(-1);
      const joined =
        previous !== undefined &&
        previous.t !== "space" &&
        (previous.t !== "punct" || previous.value === ")");
      if (c === "." && !/[0-9]/.test(src[this.pos + 1] ?? "")) {
        this.pos++;
        const name = this.identifier();
        tokens.push(name ? { t: "field", pos: start, name, joined } : { t: "dot", pos: start, joined });
      } else if (c === "$") {
        this.pos++;
        tokens.push({ t: "variable", pos: start, name: `$${this.identifier()}` });
      } else if (c === '"' || c === "`") {
        tokens.push({ t: "literal", pos: start, value: this.string(c) });
      } else if (c === "'") {
        const value = this.string("'");
        if ([...value].length !== 1) this.fail(start, "malformed character constant");
        tokens.push({ t: "literal", pos: start, value: value.codePointAt(0)! });
      } else if (/[0-9+\-.]/.test(c)) {
        tokens.push({ t: "literal", pos: start, value: this.number() });
      } else if (c === ":" && src[this.pos + 1] === "=") {
        this.pos += 2;
        tokens.push({ t: "punct", pos: start, value: ":=" });
      } else if (c === "|" || c === "(" || c === ")" || c === "=" || c === ",") {
        this.pos++;
        tokens.push({ t: "punct", pos: start, value: c });
      } else if (IDENT.test(c)) {
        const name = this.identifier();
        if (name === "true" || name === "false")
          tokens.push({ t: "literal", pos: start, value: name === "true" });
        else tokens.push({ t: "word", pos: start, name });
      } else {
        this.fail(start, `unexpected ${JSON.stringify(c)} in command`);
      }
    }
  }

  private identifier(): string {
    const start = this.pos;
    while (this.pos < this.src.length && IDENT.test(this.src[this.pos]!)) this.pos++;
    return this.src.slice(start, this.pos);
  }

  private string(quote: string): string {
    const start = this.pos++;
    let out = "";
    for (;;) {
      const c = this.src[this.pos++];
      if (c === undefined || (c === "\n" && quote !== "`")) this.fail(start, "unterminated quoted string");
      if (c === quote) return out;
      if (c !== "\\" || quote === "`") {
        out += c;
        continue;
      }
      const e = this.src[this.pos++] ?? "";
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === "x" || e === "u" || e === "U") {
        const width = e === "x" ? 2 : e === "u" ? 4 : 8;
        const hex = this.src.slice(this.pos, this.pos + width);
        if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) this.fail(start, "invalid escape in string");
        out += String.fromCodePoint(Number.parseInt(hex, 16));
        this.pos += width;
      } else if (/[0-7]/.test(e)) {
        out += String.fromCharCode(Number.parseInt(this.src.slice(this.pos - 1, this.pos + 2), 8));
        this.pos += 2;
      } else this.fail(start, "invalid escape in string");
    }
  }

  private number(): number {
    const match = /^[+-]?(0[xX][0-9a-fA-F_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
      this.src.slice(this.pos),
    );
    const text = match?.[0] ?? "";
    const value = Number(text.replaceAll("_", ""));
    if (text === "" || text === "+" || text === "-" || Number.isNaN(value))
      this.fail(this.pos, "bad number syntax");
    this.pos += text.length;
    return value;
  }
}

/** Parses the action tokens of one `{{ }}` into a pipeline; tracks variables in scope. */
class PipeParser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
    private readonly end: number,
    private readonly vars: string[],
  ) {}

  fail(pos: number, message: string): never {
    throw templateError(this.src, pos, message);
  }

  peek(skipSpace = true): Token {
    let j = this.i;
    while (skipSpace && this.tokens[j]?.t === "space") j++;
    return this.tokens[j] ?? { t: "end", pos: this.end };
  }

  next(): Token {
    while (this.tokens[this.i]?.t === "space") this.i++;
    return this.tokens[this.i++] ?? { t: "end", pos: this.end };
  }

  /** The first word, when it is a keyword (if, range, end…), consumed. */
  keyword(): string | undefined {
    const first = this.peek();
    if (first.t !== "word" || FUNCTION_NAMES.has(first.name) || first.name === "nil") return undefined;
    this.next();
    return first.name;
  }

  atEnd(): boolean {
    return this.peek().t === "end";
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.t !== "end") this.fail(token.pos, "unexpected token in command");
  }

  pipeline(context: string, allowDecl: "none" | "one" | "two"): Pipe {
    const pos = this.peek().pos;
    const decl = this.declaration(allowDecl);
    const isAssign = decl.assign;
    const cmds: Command[] = [];
    for (;;) {
      cmds.push(this.command());
      const token = this.next();
      if (token.t === "end" || (token.t === "punct" && token.value === ")")) {
        if (token.t === "punct") this.i--;
        break;
      }
      if (token.t !== "punct" || token.value !== "|") this.fail(token.pos, `unexpected token in ${context}`);
    }
    for (const name of decl.names) if (!isAssign) this.vars.push(name);
    return { pos, decl: decl.names, isAssign, cmds };
  }

  private declaration(allow: "none" | "one" | "two"): { names: string[]; assign: boolean } {
    const start = this.i;
    const names: string[] = [];
    for (;;) {
      const variable = this.next();
      const op = this.next();
      if (variable.t !== "variable" || op.t !== "punct") break;
      if (op.value === "," && allow === "two" && names.length === 0) {
        names.push(variable.name);
        continue;
      }
      if (op.value !== ":=" && op.value !== "=") break;
      names.push(variable.name);
      if (allow === "none") this.fail(variable.pos, "variable declaration is not allowed here");
      if (op.value === "=" && !this.vars.includes(variable.name)) {
        this.fail(variable.pos, `undefined variable "${variable.name}"`);
      }
      return { names, assign: op.value === "=" };
    }
    this.i = start;
    return { names: [], assign: false };
  }

  private command(): Command {
    const pos = this.peek().pos;
    const args: Arg[] = [];
    for (;;) {
      const token = this.peek(false);
      if (token.t === "space") {
        this.i++;
        continue;
      }
      if (token.t === "end" || (token.t === "punct" && (token.value === "|" || token.value === ")"))) break;
      args.push(this.operand());
    }
    if (args.length === 0) this.fail(pos, "missing value for command");
    return { pos, args };
  }

  private operand(): Arg {
    const token = this.next();
    let node: Arg;
    switch (token.t) {
      case "field":
        node = { kind: "field", pos: token.pos, ident: [token.name] };
        break;
      case "dot":
        node = { kind: "dot", pos: token.pos };
        break;
      case "variable":
        if (!this.vars.includes(token.name)) this.fail(token.pos, `undefined variable "${token.name}"`);
        node = { kind: "variable", pos: token.pos, ident: [token.name] };
        break;
      case "literal":
        node = { kind: "literal", pos: token.pos, value: token.value };
        break;
      case "word":
        if (token.name === "nil") node = { kind: "nil", pos: token.pos };
        else if (FUNCTION_NAMES.has(token.name))
          node = { kind: "function", pos: token.pos, name: token.name };
        else this.fail(token.pos, `function "${token.name}" not defined`);
        break;
      case "punct": {
        if (token.value !== "(") this.fail(token.pos, `unexpected "${token.value}" in operand`);
        const pipe = this.pipeline("parenthesized pipeline", "none");
        const close = this.next();
        if (close.t !== "punct" || close.value !== ")") this.fail(token.pos, "unclosed left paren");
        node = { kind: "pipe", pos: token.pos, pipe };
        break;
      }
      default:
        this.fail(token.pos, "missing value for command");
    }
    const fields: string[] = [];
    for (let next = this.peek(false); next.t === "field" && next.joined; next = this.peek(false)) {
      fields.push(next.name);
      this.i++;
    }
    if (this.peek(false).t === "dot" && (this.peek(false) as { joined: boolean }).joined) {
      this.fail(this.peek(false).pos, "unexpected . after term");
    }
    if (fields.length === 0) return node;
    if (node.kind === "field" || node.kind === "variable")
      return { ...node, ident: [...node.ident, ...fields] };
    if (node.kind === "literal" || node.kind === "nil" || node.kind === "dot") {
      this.fail(node.pos, "unexpected field after a constant or dot");
    }
    return { kind: "chain", pos: node.pos, node, fields };
  }
}

interface Frame {
  kind: "root" | "if" | "with" | "range";
  pos: number;
  node?: ControlNode;
  /** Where nodes go now: the body, or the else branch once `{{ else }}` was seen. */
  list: TemplateNode[];
  /** `else if` / `else with` open an implicit nested frame closed by the same `{{ end }}`. */
  chained: boolean;
  varsMark: number;
}

/** Parses a Go template into its node list; syntax errors are usage errors naming line:column. */
export function parseGoTemplate(src: string): TemplateNode[] {
  const lexer = new Lexer(src);
  const root: Frame = { kind: "root", pos: 0, list: [], chained: false, varsMark: 1 };
  const stack: Frame[] = [root];
  const vars = ["$"];
  let trimNext = false;
  const top = () => stack.at(-1)!;

  const open = (kind: "if" | "with" | "range", pos: number, parser: PipeParser, chained: boolean) => {
    const varsMark = vars.length;
    const pipe = parser.pipeline(kind, kind === "range" ? "two" : "one");
    parser.expectEnd();
    const node = { kind, pos, pipe, list: [] as TemplateNode[] };
    top().list.push(node);
    stack.push({ kind, pos, node, list: node.list, chained, varsMark });
  };
  const close = () => {
    const frame = stack.pop()!;
    vars.length = frame.varsMark;
    return frame;
  };

  while (lexer.pos < src.length) {
    const open_ = src.indexOf("{{", lexer.pos);
    let text = src.slice(lexer.pos, open_ === -1 ? src.length : open_);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
    const textPos = lexer.pos;
    if (open_ === -1) {
      if (text) top().list.push({ kind: "text", pos: textPos, text });
      break;
    }
    lexer.pos = open_ + 2;
    if (src[lexer.pos] === "-" && SPACE.test(src[lexer.pos + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      lexer.pos += 2;
    }
    if (text) top().list.push({ kind: "text", pos: textPos, text });
    const actionPos = open_;

    while (SPACE.test(src[lexer.pos] ?? "")) lexer.pos++;
    if (src.startsWith("/*", lexer.pos)) {
      const endComment = src.indexOf("*/", lexer.pos + 2);
      if (endComment === -1) throw templateError(src, actionPos, "unclosed comment");
      lexer.pos = endComment + 2;
      const closing = /^([ \t\r\n]+-)?}}/.exec(src.slice(lexer.pos));
      if (!closing) throw templateError(src, actionPos, "comment ends before closing delimiter");
      lexer.pos += closing[0].length;
      trimNext = closing[1] !== undefined;
      continue;
    }

    const { tokens, trimRight } = lexer.action(actionPos);
    trimNext = trimRight;
    const parser = new PipeParser(tokens, src, lexer.pos, vars);
    const keyword = parser.keyword();
    switch (keyword) {
      case "if":
      case "with":
      case "range":
        open(keyword, actionPos, parser, false);
        break;
      case "else": {
        const frame = top();
        if (frame.kind === "root" || frame.node?.elseList)
          throw templateError(src, actionPos, "unexpected {{else}}");
        frame.node!.elseList = [];
        frame.list = frame.node!.elseList;
        const chained = parser.keyword();
        if (chained === "if" || chained === "with") open(chained, actionPos, parser, true);
        else if (chained !== undefined || !parser.atEnd()) {
          throw templateError(src, actionPos, "unexpected token in {{else}}");
        }
        break;
      }
      case "end":
        if (!parser.atEnd()) throw templateError(src, actionPos, "unexpected token in {{end}}");
        if (top().kind === "root") throw templateError(src, actionPos, "unexpected {{end}}");
        for (let frame = close(); frame.chained; frame = close()) {
          // an `else if` chain ends with its outermost `if`
        }
        break;
      case "break":
      case "continue":
        if (!parser.atEnd()) throw templateError(src, actionPos, `unexpected token in {{${keyword}}}`);
        if (!stack.some((frame) => frame.kind === "range")) {
          throw templateError(src, actionPos, `{{${keyword}}} outside {{range}}`);
        }
        top().list.push({ kind: keyword, pos: actionPos });
        break;
      case undefined:
        if (parser.atEnd()) throw templateError(src, actionPos, "missing value for command");
        top().list.push({ kind: "action", pos: actionPos, pipe: parser.pipeline("command", "one") });
        parser.expectEnd();
        break;
      default:
        throw templateError(src, actionPos, `function "${keyword}" not defined`);
    }
  }
  if (stack.length > 1)
    throw templateError(src, top().pos, `unexpected EOF: {{${top().kind}}} has no {{end}}`);
  return root.list;
}
