/**
 * Go values as text/template sees them, and the builtin functions over them: fmt's %v printing,
 * encoding/json's output, truthiness, comparison, len/index/slice, print/printf and the escapers.
 * JavaScript stands in for Go: strings, numbers, booleans, null (nil), arrays (slices), `Map`s (Go
 * maps, in sorted key order), plain objects (structs), and `undefined` for the invalid value a
 * missing map key yields. A value may carry GO_STRING (fmt.Stringer) and GO_JSON (json.Marshaler).
 */
export const GO_STRING = Symbol("go.Stringer");
export const GO_JSON = Symbol("go.Marshaler");

interface GoObject {
  [GO_STRING]?: () => string;
  [GO_JSON]?: () => unknown;
}

export function hasSymbol(value: unknown, symbol: symbol): value is GoObject {
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

export function sortedKeys(map: Map<unknown, unknown>): unknown[] {
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

export function typeName(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  if (typeof value === "string" || typeof value === "boolean") return typeof value;
  if (Array.isArray(value)) return "[]interface {}";
  if (value instanceof Map) return "map[string]interface {}";
  return "struct";
}

export function equal(a: unknown, b: unknown): boolean {
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

export function less(a: unknown, b: unknown): boolean {
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

export function indexValue(item: unknown, indexes: unknown[]): unknown {
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

export function sliceValue(item: unknown, bounds: unknown[]): unknown {
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

export function length(item: unknown): number {
  if (typeof item === "string") return utf8.encode(item).length;
  if (Array.isArray(item)) return item.length;
  if (item instanceof Map) return item.size;
  throw new Error(`len of type ${typeName(item)}`);
}

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  return args
    .map((arg, i) => {
      const spaced = i > 0 && typeof arg !== "string" && typeof args[i - 1] !== "string";
      return (spaced ? " " : "") + formatValue(arg);
    })
    .join("");
}

/** The verbs templates use of fmt.Sprintf: %v %s %d %q %f %e %g %t %x %c and %%. */
export function sprintf(format: string, args: unknown[]): string {
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

export function stringArgs(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === "string" ? args[0] : sprint(args);
}

/** html/template-free HTMLEscapeString, as text/template's html function. */
export function htmlEscape(s: string): string {
  const entities: Record<string, string> = {
    '"': "&#34;",
    "'": "&#39;",
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
  };
  return s.replace(/["'&<>\0]/g, (c) => entities[c] ?? "\uFFFD");
}

export function jsEscape(s: string): string {
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

export function urlQueryEscape(s: string): string {
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

export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
