/**
 * Ollama's prompt templates: the Go text/template in a model's template layer, rendered as Ollama's
 * template.Execute does (template/template.go, server/prompt.go). A template that reads `.Messages`
 * gets the whole conversation at once; an older one that only knows `.System`/`.Prompt`/`.Response`
 * is run once per turn and the outputs concatenated, the last run cut off where the model's answer
 * (`.Response`) would start.
 */

import { type Arg, type Pipe, parseGoTemplate, type TemplateNode } from "./go-template.ts";
import { executeGoTemplate } from "./go-template-exec.ts";
import { GO_JSON, GO_STRING, goJson } from "./go-template-values.ts";

/** A message as Ollama's /api/chat takes it. */
export interface ChatMessage {
  role: string;
  content: string;
  thinking?: string;
  /** Only counted: each image becomes an `[img-N]` tag in the content, as Ollama's chatPrompt does. */
  images?: unknown[];
  tool_calls?: ToolCall[];
  tool_name?: string;
  tool_call_id?: string;
}

export interface ToolCall {
  id?: string;
  function: { index?: number; name: string; arguments?: Record<string, unknown> };
}

export interface ToolProperty {
  anyOf?: ToolProperty[];
  type?: string | string[];
  items?: unknown;
  description?: string;
  enum?: unknown[];
  properties?: Record<string, ToolProperty>;
}

export interface Tool {
  type: string;
  items?: unknown;
  function: {
    name: string;
    description?: string;
    parameters?: {
      type?: string;
      $defs?: unknown;
      items?: unknown;
      required?: string[];
      properties?: Record<string, ToolProperty>;
    };
  };
}

export interface PromptTemplate {
  source: string;
  nodes: TemplateNode[];
  /** The lower-cased field and variable names the template reads (Ollama's Template.Vars). */
  vars: Set<string>;
}

export interface RenderOptions {
  messages: ChatMessage[];
  tools?: Tool[];
  /** The model's system prompt (its SYSTEM layer), used when the conversation does not open with one. */
  system?: string;
  /** The request's `think`: templates see `.Think`, `.ThinkLevel` and `.IsThinkSet`. */
  think?: boolean | "high" | "medium" | "low";
  now?: () => Date;
}

function pipeIdentifiers(pipe: Pipe): string[] {
  return pipe.cmds.flatMap((cmd) => cmd.args.flatMap(argIdentifiers));
}

/** Ollama's Identifiers: field and variable names, and those inside parenthesised pipelines (not chains). */
function argIdentifiers(arg: Arg): string[] {
  if (arg.kind === "field" || arg.kind === "variable") return arg.ident;
  if (arg.kind === "pipe") return pipeIdentifiers(arg.pipe);
  return [];
}

function identifiers(nodes: TemplateNode[]): string[] {
  return nodes.flatMap((node) => {
    if (node.kind === "action") return pipeIdentifiers(node.pipe);
    if (node.kind === "if" || node.kind === "with" || node.kind === "range") {
      return [...pipeIdentifiers(node.pipe), ...identifiers(node.list), ...identifiers(node.elseList ?? [])];
    }
    return [];
  });
}

const RESPONSE: TemplateNode = {
  kind: "action",
  pos: 0,
  pipe: {
    pos: 0,
    decl: [],
    isAssign: false,
    cmds: [{ pos: 0, args: [{ kind: "field", pos: 0, ident: ["Response"] }] }],
  },
};

/** Parses a template layer; one that reads neither `.Messages` nor `.Response` gets `{{ .Response }}` appended. */
export function parseTemplate(source: string): PromptTemplate {
  const nodes = parseGoTemplate(source);
  const vars = new Set(identifiers(nodes).map((name) => name.toLowerCase()));
  if (!vars.has("messages") && !vars.has("response")) nodes.push(RESPONSE);
  return { source, nodes, vars };
}

/** Whether the template renders the conversation itself (else each turn is rendered on its own). */
export function usesMessages(template: PromptTemplate): boolean {
  return template.vars.has("messages");
}

/** Ollama's "tools" capability: the template reads `.Tools`. */
export function usesTools(template: PromptTemplate): boolean {
  return template.vars.has("tools");
}

/**
 * Ollama's deleteNode walk for the last legacy turn: keeps everything up to and including the
 * first `.Response` field and drops every node after it. Like Ollama, it looks into action
 * pipelines and control bodies but not into if/range/with conditions, and drops a whole action
 * when a command in it loses all its arguments.
 */
function cutAtResponse(nodes: TemplateNode[]): TemplateNode[] {
  let cut = false;
  const visitArg = (arg: Arg): Arg | undefined => {
    if (cut) return undefined;
    if (arg.kind === "field" && arg.ident.includes("Response")) cut = true;
    if (arg.kind === "pipe") {
      const pipe = visitPipe(arg.pipe);
      return pipe && { ...arg, pipe };
    }
    return arg;
  };
  const visitPipe = (pipe: Pipe): Pipe | undefined => {
    const cmds = [];
    for (const cmd of pipe.cmds) {
      const args = cmd.args.map(visitArg).filter((arg): arg is Arg => arg !== undefined);
      if (args.length === 0) return undefined;
      cmds.push({ ...cmd, args });
    }
    return { ...pipe, cmds };
  };
  const visitList = (list: TemplateNode[]): TemplateNode[] =>
    list.flatMap((node): TemplateNode[] => {
      if (cut) return [];
      if (node.kind === "action") {
        const pipe = visitPipe(node.pipe);
        return pipe ? [{ ...node, pipe }] : [];
      }
      if (node.kind === "if" || node.kind === "with" || node.kind === "range") {
        const list = visitList(node.list);
        return [{ ...node, list, ...(node.elseList ? { elseList: visitList(node.elseList) } : {}) }];
      }
      return [node];
    });
  return visitList(nodes);
}

/** A value printed by fmt and written by encoding/json the way Ollama's api types are. */
function jsonStruct<T extends object>(fields: T, json: () => unknown): T {
  return Object.assign(fields, { [GO_JSON]: json, [GO_STRING]: () => goJson(json()) });
}

function omitEmpty(entries: Array<[string, unknown]>): Record<string, unknown> {
  const empty = (v: unknown) => v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
  return Object.fromEntries(entries.filter(([, v]) => !empty(v)));
}

function propertyJson(p: ToolProperty): Record<string, unknown> {
  const types = typeof p.type === "string" ? [p.type] : (p.type ?? []);
  return omitEmpty([
    ["anyOf", p.anyOf?.map(propertyJson)],
    ["type", types.length === 1 ? types[0] : types],
    ["items", p.items],
    ["description", p.description],
    ["enum", p.enum],
    ["properties", p.properties && mapValues(p.properties, propertyJson)],
  ]);
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}

/** JSON objects as Go's map[string]any: ranged and marshalled in sorted key order. */
function goValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goValue);
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([key, v]) => [key, goValue(v)]));
  }
  return value ?? null;
}

function propertyValue(p: ToolProperty): object {
  const types = typeof p.type === "string" ? [p.type] : (p.type ?? []);
  // PropertyType.String(): the one type, or Go's %v of the list
  const type = Object.assign([...types], {
    [GO_STRING]: () => (types.length === 1 ? types[0]! : `[${types.join(" ")}]`),
  });
  return jsonStruct(
    {
      AnyOf: p.anyOf?.map(propertyValue) ?? null,
      Type: type,
      Items: goValue(p.items),
      Description: p.description ?? "",
      Enum: p.enum ? goValue(p.enum) : null,
      Properties: p.properties
        ? new Map(Object.entries(p.properties).map(([k, v]) => [k, propertyValue(v)]))
        : null,
    },
    () => propertyJson(p),
  );
}

/** Ollama's templateTool: the api.Tool with its properties as a Go map. */
function toolValue(tool: Tool): object {
  const fn = tool.function;
  const parameters = fn.parameters ?? {};
  const parametersJson = () =>
    omitEmpty([
      ["type", parameters.type ?? ""],
      ["$defs", parameters.$defs],
      ["items", parameters.items],
      ["required", parameters.required],
      ["properties", parameters.properties ? mapValues(parameters.properties, propertyJson) : null],
    ]);
  const properties = new Map(
    Object.entries(parameters.properties ?? {}).map(([k, v]) => [k, propertyValue(v)]),
  );
  const functionJson = () => ({
    name: fn.name,
    description: fn.description ?? "",
    parameters: parametersJson(),
  });
  return jsonStruct(
    {
      Type: tool.type,
      Items: goValue(tool.items),
      Function: jsonStruct(
        {
          Name: fn.name,
          Description: fn.description ?? "",
          Parameters: jsonStruct(
            {
              Type: parameters.type ?? "",
              Defs: goValue(parameters.$defs),
              Items: goValue(parameters.items),
              Required: parameters.required ?? null,
              Properties: Object.assign(properties, { [GO_STRING]: () => goJson(properties) }),
            },
            parametersJson,
          ),
        },
        functionJson,
      ),
    },
    () =>
      omitEmpty([
        ["type", tool.type],
        ["items", tool.items],
        ["function", functionJson()],
      ]),
  );
}

/** Ollama's templateMessage: tool-call arguments print as their JSON. */
function messageValue(message: ChatMessage): object {
  return {
    Role: message.role,
    Content: message.content,
    Thinking: message.thinking ?? "",
    Images: message.images ?? null,
    ToolCalls:
      message.tool_calls?.map((call) => {
        const args = goValue(call.function.arguments ?? {}) as Map<string, unknown>;
        return {
          ID: call.id ?? "",
          Function: {
            Index: call.function.index ?? 0,
            Name: call.function.name,
            Arguments: Object.assign(args, { [GO_STRING]: () => goJson(args) }),
          },
        };
      }) ?? null,
    ToolName: message.tool_name ?? "",
    ToolCallID: message.tool_call_id ?? "",
  };
}

/** Ollama's collate: consecutive messages of one role (tool results aside) merge; system texts gather. */
function collate(messages: ChatMessage[]): { system: string; messages: ChatMessage[] } {
  const system: string[] = [];
  const collated: ChatMessage[] = [];
  for (const message of messages) {
    if (message.role === "system") system.push(message.content);
    const last = collated.at(-1);
    if (last && last.role === message.role && message.role !== "tool") {
      collated[collated.length - 1] = { ...last, content: `${last.content}\n\n${message.content}` };
    } else collated.push(message);
  }
  return { system: system.join("\n\n"), messages: collated };
}

/** chatPrompt's image tags: `[img-N]` replaces an `[img]` placeholder or is prefixed to the content. */
function tagImages(messages: ChatMessage[]): ChatMessage[] {
  let id = 0;
  return messages.map((message) => {
    if (!message.images?.length) return message;
    let prefix = "";
    let content = message.content;
    for (const _ of message.images) {
      const tag = `[img-${id++}]`;
      if (content.includes("[img]")) content = content.replace("[img]", tag);
      else prefix += tag;
    }
    return { ...message, content: prefix + content };
  });
}

/** Renders the raw prompt for a conversation, exactly as Ollama builds it for llama.cpp. */
export function renderPrompt(template: PromptTemplate | string, options: RenderOptions): string {
  const parsed = typeof template === "string" ? parseTemplate(template) : template;
  const opening = options.messages[0]?.role === "system" || !options.system;
  const conversation = opening
    ? options.messages
    : [{ role: "system", content: options.system! }, ...options.messages];
  const { system, messages } = collate(tagImages(conversation));
  const think = {
    Think: options.think === undefined ? false : options.think !== false,
    ThinkLevel: options.think === true ? "medium" : typeof options.think === "string" ? options.think : "",
    IsThinkSet: options.think !== undefined,
  };
  const run = (nodes: TemplateNode[], values: Record<string, unknown>) =>
    executeGoTemplate(parsed.source, nodes, new Map(Object.entries({ ...values, ...think })), {
      now: options.now,
    });

  if (usesMessages(parsed)) {
    const tools = options.tools ? options.tools.map(toolValue) : null;
    return run(parsed.nodes, {
      System: system,
      Messages: messages.map(messageValue),
      Tools: tools && Object.assign(tools, { [GO_STRING]: () => goJson(tools) }),
      Response: "",
    });
  }

  let turn = { System: "", Prompt: "", Response: "" };
  let out = "";
  const flush = () => {
    out += run(parsed.nodes, turn);
    turn = { System: "", Prompt: "", Response: "" };
  };
  for (const message of messages) {
    if (message.role === "system") {
      if (turn.Prompt || turn.Response) flush();
      turn.System = message.content;
    } else if (message.role === "user") {
      if (turn.Response) flush();
      turn.Prompt = message.content;
    } else if (message.role === "assistant") turn.Response = message.content;
  }
  return out + run(cutAtResponse(parsed.nodes), turn);
}
