/**
 * Ollama's Modelfile (parser/parser.go, docs/modelfile.md): one instruction per line — FROM,
 * ADAPTER, TEMPLATE, SYSTEM, PARAMETER, LICENSE, MESSAGE — names in any case, `#` comments, values
 * bare to the end of the line or quoted with `"` or `"""` (the quoted forms may span lines).
 * Parameters are typed by Ollama's option table (api.Options); an unknown one is an error here
 * rather than later, as Ollama's create does, so the line can be named.
 */
import { A3sError } from "../core/errors.ts";

export type MessageRole = "system" | "user" | "assistant";
export type ParameterValue = number | boolean | string[];

export interface Modelfile {
  /** FROM lines in order: the model (a name, a GGUF path or a blob), then any projector. */
  from: string[];
  adapters: string[];
  template?: string;
  system?: string;
  /** Typed values; `stop` gathers every PARAMETER stop line. */
  parameters: Record<string, ParameterValue>;
  licenses: string[];
  messages: Array<{ role: MessageRole; content: string }>;
  /** Parameters Ollama has retired: it warns and drops them, so do callers. */
  deprecated: string[];
}

const INT = "int";
const FLOAT = "float";
const BOOL = "bool";
const STRINGS = "strings";

/** api.Options and api.Runner: each PARAMETER name and the Go type it parses as. */
export const PARAMETER_TYPES: Record<string, typeof INT | typeof FLOAT | typeof BOOL | typeof STRINGS> = {
  num_ctx: INT,
  num_batch: INT,
  num_gpu: INT,
  main_gpu: INT,
  num_thread: INT,
  use_mmap: BOOL,
  num_keep: INT,
  seed: INT,
  num_predict: INT,
  top_k: INT,
  top_p: FLOAT,
  min_p: FLOAT,
  typical_p: FLOAT,
  repeat_last_n: INT,
  temperature: FLOAT,
  repeat_penalty: FLOAT,
  presence_penalty: FLOAT,
  frequency_penalty: FLOAT,
  stop: STRINGS,
};

const DEPRECATED = new Set([
  "penalize_newline",
  "low_vram",
  "f16_kv",
  "logits_all",
  "vocab_only",
  "use_mlock",
  "mirostat",
  "mirostat_tau",
  "mirostat_eta",
]);

const COMMANDS = new Set(["from", "adapter", "template", "system", "parameter", "license", "message"]);
const ROLES = new Set(["system", "user", "assistant"]);

function lineError(line: number, message: string): A3sError {
  return new A3sError("usage", `Modelfile (line ${line}): ${message}`);
}

/** The float32 Ollama stores, written with the fewest digits that read back as it (Go's float32 JSON). */
function float32(value: number): number {
  const target = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return target;
}

/** api.FormatParams for one value: strconv's ParseInt, ParseFloat(32) and ParseBool. */
export function parseParameter(name: string, text: string): number | boolean | string {
  const type = PARAMETER_TYPES[name];
  if (type === undefined) throw new A3sError("usage", `unknown parameter '${name}'`);
  if (type === INT) {
    if (!/^[+-]?\d+$/.test(text))
      throw new A3sError("usage", `invalid int value for ${name}: ${JSON.stringify(text)}`);
    return Number(text);
  }
  if (type === FLOAT) {
    const value = Number(text);
    if (text.trim() === "" || Number.isNaN(value)) {
      throw new A3sError("usage", `invalid float value for ${name}: ${JSON.stringify(text)}`);
    }
    return float32(value);
  }
  if (type === BOOL) {
    if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
    throw new A3sError("usage", `invalid bool value for ${name}: ${JSON.stringify(text)}`);
  }
  return text;
}

/** Ollama's unquote: `"""…"""` or `"…"`; undefined while a quote is still open. */
function unquote(text: string): string | undefined {
  if (text.startsWith('"""')) return text.length >= 6 && text.endsWith('"""') ? text.slice(3, -3) : undefined;
  if (text.startsWith('"')) return text.length >= 2 && text.endsWith('"') ? text.slice(1, -1) : undefined;
  return text;
}

interface Command {
  line: number;
  name: string;
  /** PARAMETER's name or MESSAGE's role. */
  key?: string;
  value: string;
}

const isSpace = (c: string) => c === " " || c === "\t";
const isNewline = (c: string) => c === "\n" || c === "\r";

/** Ollama's rune-by-rune state machine: name, optional key, then a value that ends at a newline once its quotes close. */
function commands(text: string): Command[] {
  const result: Command[] = [];
  const chars = [...text.replace(/^\uFEFF/, "")];
  let line = 1;
  let i = 0;
  const at = () => chars[i] ?? "";
  while (i < chars.length) {
    if (isSpace(at()) || isNewline(at())) {
      if (at() === "\n") line++;
      i++;
      continue;
    }
    if (at() === "#") {
      while (i < chars.length && at() !== "\n") i++;
      continue;
    }
    const start = line;
    let name = "";
    while (/[a-zA-Z]/.test(at())) name += chars[i++];
    if (!isSpace(at()) || !COMMANDS.has(name.toLowerCase())) {
      throw lineError(line + (at() === "\n" ? 1 : 0), `unknown instruction '${name}${at().trim()}'`);
    }
    const command: Command = { line: start, name: name.toLowerCase(), value: "" };
    if (command.name === "parameter" || command.name === "message") {
      i++;
      let key = "";
      while (command.name === "parameter" ? /[a-zA-Z0-9_]/.test(at()) : /[a-zA-Z]/.test(at()))
        key += chars[i++];
      if (!isSpace(at())) throw lineError(line, `missing value after ${name} ${key}`);
      if (command.name === "message" && !ROLES.has(key)) {
        throw lineError(line, `message role must be one of "system", "user", or "assistant"`);
      }
      command.key = key;
    }
    i++;
    let buffer = "";
    for (; i < chars.length; i++) {
      const c = at();
      if (isNewline(c) && unquote(buffer.trim()) !== undefined) break;
      if (c === "\n") line++;
      buffer += c;
    }
    const value = unquote(buffer.trim());
    if (value === undefined) throw lineError(start, "unterminated quoted string");
    command.value = value;
    result.push(command);
  }
  return result;
}

/** Parses a Modelfile; errors are usage errors naming the line. */
export function parseModelfile(text: string): Modelfile {
  const modelfile: Modelfile = {
    from: [],
    adapters: [],
    parameters: {},
    licenses: [],
    messages: [],
    deprecated: [],
  };
  for (const command of commands(text)) {
    switch (command.name) {
      case "from":
        modelfile.from.push(command.value);
        break;
      case "adapter":
        modelfile.adapters.push(command.value);
        break;
      case "template":
      case "system":
        modelfile[command.name] = command.value;
        break;
      case "license":
        modelfile.licenses.push(command.value);
        break;
      case "message":
        modelfile.messages.push({ role: command.key as MessageRole, content: command.value });
        break;
      case "parameter": {
        const name = command.key!;
        if (DEPRECATED.has(name)) {
          modelfile.deprecated.push(name);
          break;
        }
        let value: number | boolean | string;
        try {
          value = parseParameter(name, command.value);
        } catch (err) {
          throw lineError(command.line, (err as Error).message);
        }
        const { parameters } = modelfile;
        if (typeof value === "string") parameters[name] = [...((parameters[name] as string[]) ?? []), value];
        else parameters[name] = value;
      }
    }
  }
  if (modelfile.from.length === 0) throw new A3sError("usage", "Modelfile: no FROM line");
  return modelfile;
}

/** A value as Ollama's parser writes it back: quoted when it spans lines or has edge spaces. */
export function quoteModelfileValue(text: string): string {
  if (text.includes("\n") || text.startsWith(" ") || text.endsWith(" ")) {
    return text.includes('"') ? `"""${text}"""` : `"${text}"`;
  }
  return text;
}

/**
 * The Modelfile text Ollama writes (Modelfile.String, the body of /api/show's `modelfile`): FROM,
 * ADAPTER, TEMPLATE, SYSTEM, PARAMETER (by name; stop once per value), LICENSE, MESSAGE.
 */
export function formatModelfile(modelfile: Omit<Modelfile, "deprecated">): string {
  const q = quoteModelfileValue;
  const parameters = Object.keys(modelfile.parameters)
    .sort()
    .flatMap((name) => {
      const value = modelfile.parameters[name]!;
      return (Array.isArray(value) ? value : [value]).map((v) => `PARAMETER ${name} ${q(String(v))}`);
    });
  const lines = [
    ...modelfile.from.map((from) => `FROM ${from}`),
    ...modelfile.adapters.map((adapter) => `ADAPTER ${q(adapter)}`),
    ...(modelfile.template === undefined ? [] : [`TEMPLATE ${q(modelfile.template)}`]),
    ...(modelfile.system === undefined ? [] : [`SYSTEM ${q(modelfile.system)}`]),
    ...parameters,
    ...modelfile.licenses.map((license) => `LICENSE ${q(license)}`),
    ...modelfile.messages.map((message) => `MESSAGE ${message.role} ${q(message.content)}`),
  ];
  return lines.map((line) => `${line}\n`).join("");
}
