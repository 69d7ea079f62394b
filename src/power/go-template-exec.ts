/**
 * Executes a parsed Go template (go-template.ts) with text/template's semantics over JavaScript
 * values that stand for Go ones: strings, numbers, booleans, null (nil), arrays (slices), `Map`s
 * (Go maps: ranged and printed in sorted key order, a missing key is the zero value) and plain
 * objects (structs: a missing field is an error). `undefined` is the invalid value a missing map
 * key yields, which Go prints as "<no value>". A value may carry GO_STRING (fmt.Stringer) and
 * GO_JSON (json.Marshaler), as Ollama's tool and argument types do.
 */
import { A3sError } from "../core/errors.ts";
import { type Arg, type ControlNode, type Pipe, type TemplateNode, templateError } from "./go-template.ts";

export const GO_STRING = Symbol("go.Stringer");
export const GO_JSON = Symbol("go.Marshaler");

interface GoObject {
  [GO_STRING]?: () => string;
  [GO_JSON]?: () => unknown;
}

export interface ExecuteOptions {
  /** The clock behind Ollama's currentDate and yesterdayDate. */
  now?: () => Date;
}

class BreakSignal {}
class ContinueSignal {}
/** Marks "no value piped in" apart from a piped-in undefined. */
const NONE = Symbol("none");

function hasSymbol(value: unknown, symbol: symbol): value is GoObject {
  return typeof value === "object" && value !== null && symbol in value;
}

export function isTrue(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string" || Array.isArray(value)) return value.length > 0;
  if (value instanceof Map) return value.size > 0;
  return true;
}

/** Go's %v of a float64: shortest digits, exponent form below 1e-4 and from 1e21 (integers) or 1e6. */
function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "NaN" : n > 0 ? "+Inf" : "-Inf";
  const [mantissa, exponent] = n.toExponential().split("e") as [string, string];
  const exp = Number(exponent);
  if (exp >= -4 && exp < (Number.isInteger(n) ? 21 : 6)) return String(n);
  return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function sortedKeys(map: Map<unknown, unknown>): unknown[] {
  return [...map.keys()].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

/** fmt's %v, as text/template prints a value. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "<no value>";
  if (value === null) return "<nil>";
  if (hasSymbol(value, GO_STRING)) return value[GO_STRING]!();
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(" ")}]`;
  if (value instanceof Map) {
    return `map[${sortedKeys(value)
      .map((key) => `${formatValue(key)}:${formatValue(value.get(key))}`)
      .join(" ")}]`;
  }
  return `{${Object.values(value as object)
    .map(formatValue)
    .join(" ")}}`;
}

function toJsonValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (hasSymbol(value, GO_JSON)) return toJsonValue(value[GO_JSON]!());
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Map) {
    return Object.fromEntries(sortedKeys(value).map((key) => [String(key), toJsonValue(value.get(key))]));
  }
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, toJsonValue(v)]));
  }
  return value;
}

/** encoding/json's Marshal: Go escapes <, > and & (and U+2028/U+2029) for safe embedding in HTML. */
export function goJson(value: unknown): string {
  return JSON.stringify(toJsonValue(value)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

type Kind = "bool" | "number" | "string" | "invalid" | "other";

function kindOf(value: unknown): Kind {
  if (value === null || value === undefined) return "invalid";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return "number";
  if (typeof value === "string") return "string";
  return "other";
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  if (typeof value === "string" || typeof value === "boolean") return typeof value;
  if (Array.isArray(value)) return "[]interface {}";
  if (value instanceof Map) return "map[string]interface {}";
  return "struct";
}

function equal(a: unknown, b: unknown): boolean {
  const [ka, kb] = [kindOf(a), kindOf(b)];
  if (ka !== kb) {
    if (ka !== "invalid" && kb !== "invalid") throw new Error("incompatible types for comparison");
    return false;
  }
  if (ka === "other" && (Array.isArray(a) || a instanceof Map || Array.isArray(b) || b instanceof Map)) {
    throw new Error(`non-comparable type ${typeName(a)}`);
  }
  return ka === "invalid" || a === b;
}

function less(a: unknown, b: unknown): boolean {
  const [ka, kb] = [kindOf(a), kindOf(b)];
  if (ka !== kb) throw new Error("incompatible types for comparison");
  if (ka !== "number" && ka !== "string") throw new Error("invalid type for comparison");
  return (a as number | string) < (b as number | string);
}

const utf8 = new TextEncoder();

function integerArg(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value))
    throw new Error(`cannot index slice/array with ${what}`);
  return value;
}

function indexValue(item: unknown, indexes: unknown[]): unknown {
  let current = item;
  for (const index of indexes) {
    if (current instanceof Map) current = current.get(index);
    else if (Array.isArray(current) || typeof current === "string") {
      const items = typeof current === "string" ? [...utf8.encode(current)] : current;
      const i = integerArg(index, typeName(index));
      if (i < 0 || i >= items.length) throw new Error(`index out of range: ${i}`);
      current = items[i];
    } else throw new Error(`can't index item of type ${typeName(current)}`);
  }
  return current;
}

function sliceValue(item: unknown, bounds: unknown[]): unknown {
  if (typeof item !== "string" && !Array.isArray(item))
    throw new Error(`can't slice item of type ${typeName(item)}`);
  if (bounds.length > 3 || (typeof item === "string" && bounds.length > 2)) {
    throw new Error("too many slice indexes");
  }
  const length = typeof item === "string" ? utf8.encode(item).length : item.length;
  const [start = 0, end = length] = bounds.map((b) => integerArg(b, typeName(b)));
  if (start < 0 || end < start || end > length) throw new Error(`index out of range: ${start}:${end}`);
  if (typeof item === "string") return new TextDecoder().decode(utf8.encode(item).slice(start, end));
  return item.slice(start, end);
}

function length(item: unknown): number {
  if (typeof item === "string") return utf8.encode(item).length;
  if (Array.isArray(item)) return item.length;
  if (item instanceof Map) return item.size;
  throw new Error(`len of type ${typeName(item)}`);
}

/** fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: unknown[]): string {
  return args
    .map((arg, i) => {
      const spaced = i > 0 && typeof arg !== "string" && typeof args[i - 1] !== "string";
      return (spaced ? " " : "") + formatValue(arg);
    })
    .join("");
}

/** The verbs templates use of fmt.Sprintf: %v %s %d %q %f %e %g %t %x %c and %%. */
function sprintf(format: string, args: unknown[]): string {
  let next = 0;
  const out = format.replace(
    /%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])/g,
    (_whole, flags, width, precision, verb) => {
      if (verb === "%") return "%";
      if (next >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[next++];
      let text: string;
      if (verb === "d" && typeof arg === "number" && Number.isInteger(arg)) text = String(arg);
      else if ((verb === "f" || verb === "e") && typeof arg === "number") {
        text = verb === "f" ? arg.toFixed(Number(precision ?? 6)) : arg.toExponential(Number(precision ?? 6));
      } else if (verb === "g" && typeof arg === "number") text = formatNumber(arg);
      else if (verb === "q" && typeof arg === "string") text = JSON.stringify(arg);
      else if (verb === "t" && typeof arg === "boolean") text = String(arg);
      else if (verb === "x" && typeof arg === "number") text = arg.toString(16);
      else if (verb === "x" && typeof arg === "string") text = Buffer.from(arg).toString("hex");
      else if (verb === "c" && typeof arg === "number") text = String.fromCodePoint(arg);
      else if (verb === "v" || (verb === "s" && typeof arg !== "number" && typeof arg !== "boolean")) {
        text = formatValue(arg);
      } else return `%!${verb}(${typeName(arg)}=${formatValue(arg)})`;
      const pad = Number(width || 0) - text.length;
      if (pad <= 0) return text;
      if (flags.includes("-")) return text + " ".repeat(pad);
      return (flags.includes("0") ? "0" : " ").repeat(pad) + text;
    },
  );
  const extra = args.slice(next);
  return extra.length === 0
    ? out
    : `${out}%!(EXTRA ${extra.map((a) => `${typeName(a)}=${formatValue(a)}`).join(", ")})`;
}

function stringArgs(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === "string" ? args[0] : sprint(args);
}

/** html/template-free HTMLEscapeString, as text/template's html function. */
function htmlEscape(s: string): string {
  const entities: Record<string, string> = {
    '"': "&#34;",
    "'": "&#39;",
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
  };
  return s.replace(/["'&<>\0]/g, (c) => entities[c] ?? "\uFFFD");
}

function jsEscape(s: string): string {
  return [...s]
    .map((c) => {
      if (c === "\\" || c === "'" || c === '"') return `\\${c}`;
      if (c === "<" || c === ">" || c === "&" || c === "=" || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(c)) {
        return `\\u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
      }
      return c;
    })
    .join("");
}

function urlQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

/** ToolProperty.ToTypeScriptType in Ollama's api package, over the property's JSON form. */
export function typeScriptType(property: Record<string, unknown>): string {
  const anyOf = property.anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0) {
    return anyOf.map((p) => typeScriptType(p as Record<string, unknown>)).join(" | ");
  }
  const types = typeof property.type === "string" ? [property.type] : (property.type as string[] | undefined);
  if (!types || types.length === 0) return "any";
  const map: Record<string, string> = {
    string: "string",
    number: "number",
    integer: "number",
    boolean: "boolean",
    array: "any[]",
    object: "Record<string, any>",
    null: "null",
  };
  return types.map((t) => map[t] ?? "any").join(" | ");
}

function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Fixed-arity functions: [minimum, maximum] argument counts, as their Go signatures allow. */
const ARITY: Record<string, [number, number]> = {
  not: [1, 1],
  len: [1, 1],
  index: [1, Infinity],
  slice: [1, Infinity],
  printf: [1, Infinity],
  eq: [1, Infinity],
  ne: [2, 2],
  lt: [2, 2],
  le: [2, 2],
  gt: [2, 2],
  ge: [2, 2],
  json: [1, 1],
  toTypeScriptType: [1, 1],
  and: [1, Infinity],
  or: [1, Infinity],
};

class Executor {
  private readonly out: string[] = [];
  private readonly vars: Array<{ name: string; value: unknown }>;

  constructor(
    private readonly src: string,
    root: unknown,
    private readonly options: ExecuteOptions,
  ) {
    this.vars = [{ name: "$", value: root }];
  }

  run(nodes: TemplateNode[], dot: unknown): string {
    this.walk(nodes, dot);
    return this.out.join("");
  }

  private fail(pos: number, message: string): never {
    throw templateError(this.src, pos, message);
  }

  private walk(nodes: TemplateNode[], dot: unknown): void {
    for (const node of nodes) {
      switch (node.kind) {
        case "text":
          this.out.push(node.text);
          break;
        case "action": {
          const value = this.pipeline(node.pipe, dot);
          if (node.pipe.decl.length === 0) this.out.push(formatValue(value));
          break;
        }
        case "if":
        case "with": {
          const mark = this.vars.length;
          const value = this.pipeline(node.pipe, dot);
          if (isTrue(value)) this.walk(node.list, node.kind === "with" ? value : dot);
          else if (node.elseList) this.walk(node.elseList, dot);
          this.vars.length = mark;
          break;
        }
        case "range":
          this.range(node, dot);
          break;
        case "break":
          throw new BreakSignal();
        case "continue":
          throw new ContinueSignal();
      }
    }
  }

  private range(node: ControlNode, dot: unknown): void {
    const mark = this.vars.length;
    const value = this.commands(node.pipe, dot);
    let entries: Array<[unknown, unknown]>;
    if (value === null || value === undefined) entries = [];
    else if (Array.isArray(value)) entries = value.map((item, i) => [i, item]);
    else if (value instanceof Map) entries = sortedKeys(value).map((key) => [key, value.get(key)]);
    else if (typeof value === "number" && Number.isInteger(value)) {
      if (node.pipe.decl.length > 1) this.fail(node.pos, "can't use two iteration variables with an integer");
      entries = Array.from({ length: Math.max(0, value) }, (_, i) => [i, i]);
    } else this.fail(node.pos, `range can't iterate over ${formatValue(value)}`);
    for (const [key, item] of entries) {
      const [first, second] = node.pipe.decl;
      if (second !== undefined) this.vars.push({ name: first!, value: key }, { name: second, value: item });
      else if (first !== undefined) this.vars.push({ name: first, value: item });
      try {
        this.walk(node.list, item);
      } catch (signal) {
        if (signal instanceof BreakSignal) break;
        if (!(signal instanceof ContinueSignal)) throw signal;
      } finally {
        this.vars.length = mark;
      }
    }
    if (entries.length === 0 && node.elseList) this.walk(node.elseList, dot);
  }

  /** Evaluates a pipeline and declares or assigns its variables. */
  private pipeline(pipe: Pipe, dot: unknown): unknown {
    const value = this.commands(pipe, dot);
    for (const name of pipe.decl) {
      if (!pipe.isAssign) this.vars.push({ name, value });
      else this.vars.findLast((v) => v.name === name)!.value = value;
    }
    return value;
  }

  private commands(pipe: Pipe, dot: unknown): unknown {
    let value: unknown = NONE;
    for (const cmd of pipe.cmds) value = this.command(cmd.args, dot, value);
    return value;
  }

  private command(args: Arg[], dot: unknown, final: unknown): unknown {
    const [first, ...rest] = args as [Arg, ...Arg[]];
    const noArguments = (what: string) => {
      if (rest.length > 0 || final !== NONE)
        this.fail(first.pos, `can't give argument to non-function ${what}`);
    };
    switch (first.kind) {
      case "function":
        return this.call(first, rest, dot, final);
      case "field":
        noArguments(`.${first.ident.join(".")}`);
        return this.fields(first.pos, dot, first.ident);
      case "variable": {
        noArguments(first.ident.join("."));
        return this.fields(first.pos, this.variable(first.ident[0]!), first.ident.slice(1));
      }
      case "chain":
        noArguments("chain");
        return this.fields(first.pos, this.arg(first.node, dot), first.fields);
      case "nil":
        return this.fail(first.pos, "nil is not a command");
      default:
        noArguments(formatValue(this.arg(first, dot)));
        return this.arg(first, dot);
    }
  }

  private arg(arg: Arg, dot: unknown): unknown {
    switch (arg.kind) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "literal":
        return arg.value;
      case "field":
        return this.fields(arg.pos, dot, arg.ident);
      case "variable":
        return this.fields(arg.pos, this.variable(arg.ident[0]!), arg.ident.slice(1));
      case "chain":
        return this.fields(arg.pos, this.arg(arg.node, dot), arg.fields);
      case "pipe": {
        const mark = this.vars.length;
        const value = this.pipeline(arg.pipe, dot);
        this.vars.length = mark;
        return value;
      }
      case "function":
        return this.call(arg, [], dot, NONE);
    }
  }

  private variable(name: string): unknown {
    return this.vars.findLast((v) => v.name === name)!.value;
  }

  private fields(pos: number, receiver: unknown, names: string[]): unknown {
    let value = receiver;
    for (const name of names) {
      if (value instanceof Map) value = value.get(name);
      else if (value === null || value === undefined)
        this.fail(pos, `nil pointer evaluating interface {}.${name}`);
      else if (typeof value === "object" && !Array.isArray(value) && Object.hasOwn(value, name)) {
        value = (value as Record<string, unknown>)[name];
      } else this.fail(pos, `can't evaluate field ${name} in type ${typeName(value)}`);
    }
    return value;
  }

  private call(
    fn: Extract<Arg, { kind: "function" }>,
    argNodes: Arg[],
    dot: unknown,
    final: unknown,
  ): unknown {
    const count = argNodes.length + (final === NONE ? 0 : 1);
    const [min, max] = ARITY[fn.name] ?? [0, Infinity];
    if (count < min || count > max) {
      this.fail(
        fn.pos,
        `wrong number of args for ${fn.name}: want ${min === max ? min : `at least ${min}`} got ${count}`,
      );
    }
    if (fn.name === "and" || fn.name === "or") {
      let value: unknown;
      for (let i = 0; i < count; i++) {
        value = i < argNodes.length ? this.arg(argNodes[i]!, dot) : final;
        if (isTrue(value) === (fn.name === "or")) return value;
      }
      return value;
    }
    const args = argNodes.map((node) => this.arg(node, dot));
    if (final !== NONE) args.push(final);
    try {
      return this.builtin(fn.name, args);
    } catch (err) {
      if (err instanceof A3sError) throw err;
      return this.fail(fn.pos, `error calling ${fn.name}: ${(err as Error).message}`);
    }
  }

  private builtin(name: string, args: unknown[]): unknown {
    const [a, b] = args;
    switch (name) {
      case "not":
        return !isTrue(a);
      case "len":
        return length(a);
      case "index":
        return indexValue(a, args.slice(1));
      case "slice":
        return sliceValue(a, args.slice(1));
      case "print":
        return sprint(args);
      case "println":
        return `${args.map(formatValue).join(" ")}\n`;
      case "printf":
        return sprintf(String(a), args.slice(1));
      case "html":
        return htmlEscape(stringArgs(args));
      case "js":
        return jsEscape(stringArgs(args));
      case "urlquery":
        return urlQueryEscape(stringArgs(args));
      case "eq":
        if (args.length < 2) throw new Error("missing argument for comparison");
        return args.slice(1).some((other) => equal(a, other));
      case "ne":
        return !equal(a, b);
      case "lt":
        return less(a, b);
      case "le":
        return less(a, b) || equal(a, b);
      case "gt":
        return !less(a, b) && !equal(a, b);
      case "ge":
        return !less(a, b);
      case "json":
        return goJson(a);
      case "currentDate":
        return isoDay(this.options.now?.() ?? new Date());
      case "yesterdayDate": {
        const day = this.options.now?.() ?? new Date();
        return isoDay(new Date(day.getFullYear(), day.getMonth(), day.getDate() - 1));
      }
      case "toTypeScriptType":
        return hasSymbol(a, GO_JSON) && !Array.isArray(a) && !(a instanceof Map)
          ? typeScriptType(a[GO_JSON]!() as Record<string, unknown>)
          : "any";
      default:
        throw new Error(`function "${name}" not defined`);
    }
  }
}

/** Runs a parsed template over `data` (the value of `.` and `$`); errors are usage errors naming line:column. */
export function executeGoTemplate(
  src: string,
  nodes: TemplateNode[],
  data: unknown,
  options: ExecuteOptions = {},
): string {
  return new Executor(src, data, options).run(nodes, data);
}
