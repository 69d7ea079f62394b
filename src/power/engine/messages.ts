/**
 * Chat messages and tool calls in Ollama's shapes, and recognising a tool call in what a model wrote.
 * Models announce calls in their template's dialect: bare JSON (`{"name":…,"arguments":…}`), a list
 * of them, or JSON wrapped in `<tool_call>…</tool_call>`, `[TOOL_CALLS]`, `<|python_tag|>` or a
 * ```json fence. A call must name one of the request's tools; anything else stays content.
 */

export interface ToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  images?: string[];
  tool_calls?: ToolCall[];
  /** The tool a `tool` message answers (Ollama's tool_name). */
  tool_name?: string;
  thinking?: string;
}

export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

const PREFIXES = ["<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", "```json", "```"];
const SUFFIXES = ["</tool_call>", "<|eom_id|>", "```"];

/** Whether `text` (so far) could still become a tool call: streaming holds it back until decided. */
export function mayBeToolCall(text: string): boolean {
  const trimmed = text.trimStart();
  if (trimmed === "") return true;
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) return true;
  return PREFIXES.some((prefix) => prefix.startsWith(trimmed) || trimmed.startsWith(prefix));
}

export interface ParsedOutput {
  content: string;
  toolCalls: ToolCall[];
}

/** Splits a finished response into tool calls (for the given tools) and remaining content. */
export function parseToolCalls(text: string, tools: readonly ToolDefinition[]): ParsedOutput {
  const names = new Set(tools.map((tool) => tool.function.name));
  if (names.size === 0) return { content: text, toolCalls: [] };
  let body = text.trim();
  let stripped = true;
  while (stripped) {
    stripped = false;
    for (const prefix of PREFIXES) {
      if (body.startsWith(prefix)) {
        body = body.slice(prefix.length).trim();
        stripped = true;
      }
    }
    for (const suffix of SUFFIXES) {
      if (body.endsWith(suffix)) {
        body = body.slice(0, -suffix.length).trim();
        stripped = true;
      }
    }
  }
  // Several <tool_call> blocks in a row become one JSON list.
  body = body.replace(/\s*<\/tool_call>\s*<tool_call>\s*/g, ",");
  const candidates = body.startsWith("[") ? [body] : [body, `[${body}]`];
  for (const candidate of candidates) {
    const calls = toCalls(tryJson(candidate), names);
    if (calls) return { content: "", toolCalls: calls };
  }
  return { content: text, toolCalls: [] };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toCalls(value: unknown, names: ReadonlySet<string>): ToolCall[] | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return undefined;
  const calls: ToolCall[] = [];
  for (const item of items) {
    if (item === null || typeof item !== "object") return undefined;
    const record = item as Record<string, unknown>;
    const inner = (record.function ?? record) as Record<string, unknown>;
    const name = inner.name;
    const args = inner.arguments ?? inner.parameters ?? {};
    if (typeof name !== "string" || !names.has(name)) return undefined;
    const parsedArgs = typeof args === "string" ? tryJson(args) : args;
    if (parsedArgs === null || typeof parsedArgs !== "object" || Array.isArray(parsedArgs)) return undefined;
    calls.push({ function: { name, arguments: parsedArgs as Record<string, unknown> } });
  }
  return calls;
}
