/**
 * Executes a parsed Go template (go-template.ts) with text/template's semantics — pipelines,
 * variables and their scopes, if/with/range with break and continue, the builtin and Ollama
 * functions — over the Go-like values of go-template-values.ts. A missing struct field is an
 * error; a missing map key is the zero value, as Ollama's `missingkey=zero` asks.
 */
import { A3sError } from "../core/errors.ts";
import { type Arg, type ControlNode, type Pipe, type TemplateNode, templateError } from "./go-template.ts";
import {
  equal,
  formatValue,
  GO_JSON,
  goJson,
  hasSymbol,
  htmlEscape,
  indexValue,
  isoDay,
  isTrue,
  jsEscape,
  length,
  less,
  sliceValue,
  sortedKeys,
  sprint,
  sprintf,
  stringArgs,
  typeName,
  typeScriptType,
  urlQueryEscape,
} from "./go-template-values.ts";

export interface ExecuteOptions {
  /** The clock behind Ollama's currentDate and yesterdayDate. */
  now?: () => Date;
}

class BreakSignal {}
class ContinueSignal {}
/** Marks "no value piped in" apart from a piped-in undefined. */
const NONE = Symbol("none");

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
