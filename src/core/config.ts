/**
 * ~/.a3s/config.json: one zod schema, JSONC tolerated, environment overrides listed in one table.
 * Precedence (lowest first): schema defaults < config file < environment < command-line flags
 * (flags are applied by each command, not here).
 */
import { existsSync, readFileSync } from "node:fs";
import { applyEdits, modify, type ParseError, parse, printParseErrorCode } from "jsonc-parser";
import { z } from "zod";
import { A3sError, fromSystemError } from "./errors.ts";
import { writeFileAtomic } from "./fs.ts";

// zod compiles a parser for each object schema on its first use; a command that parses its config
// once pays ~1.7 ms for that (measured in the binary), more than interpreting the schema costs.
// Process-wide: no zod schema here is parsed in a loop hot enough to win it back.
z.config({ jitless: true });

const ProviderSchema = z.strictObject({
  type: z.enum(["anthropic", "openai"]),
  baseUrl: z.string().url().optional(),
  /** Name of the environment variable holding the key; keys themselves never live in this file. */
  apiKeyEnv: z.string().optional(),
  models: z.array(z.string()).optional(),
  /** Extra request headers (OpenRouter's HTTP-Referer, a gateway's tenant header). */
  headers: z.record(z.string(), z.string()).default({}),
});

/** Claude-Code-compatible permission rules: `Tool` or `Tool(pattern)`, evaluated deny → allow → ask. */
export const PermissionsSchema = z.strictObject({
  allow: z.array(z.string()).default([]),
  deny: z.array(z.string()).default([]),
  ask: z.array(z.string()).default([]),
  defaultMode: z.enum(["default", "accept-edits", "plan", "yolo"]).optional(),
  /** Directories outside the workspace that tools may use. */
  additionalDirectories: z.array(z.string()).default([]),
});

export const HOOK_EVENTS = ["PreToolUse", "PostToolUse", "UserPromptSubmit", "SessionStart", "Stop"] as const;

/** Claude Code's hooks shape: per event, matchers (tool-name regex) each with shell commands. */
export const HooksSchema = z.partialRecord(
  z.enum(HOOK_EVENTS),
  z.array(
    z.strictObject({
      matcher: z.string().optional(),
      hooks: z.array(
        z.strictObject({
          type: z.literal("command"),
          command: z.string().min(1),
          /** Seconds; 60 by default. */
          timeout: z.number().positive().optional(),
        }),
      ),
    }),
  ),
);

/** MCP servers as Claude Code's .mcp.json writes them: stdio (command) or streamable HTTP (url). */
export const McpServerSchema = z.union([
  z.strictObject({
    type: z.literal("stdio").optional(),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().optional(),
  }),
  z.strictObject({
    type: z.enum(["http", "streamable-http"]),
    // `${VAR}` references are expanded when the server is connected, so a template is valid here.
    url: z.string().refine((url) => URL.canParse(url) || url.includes("${"), "Invalid URL"),
    headers: z.record(z.string(), z.string()).default({}),
  }),
]);

export const ConfigSchema = z.strictObject({
  box: z
    .strictObject({
      registryMirrors: z.array(z.string()).default([]),
      insecureRegistries: z.array(z.string()).default([]),
      runtime: z.enum(["crun", "runc", "runsc"]).default("crun"),
      isolation: z.enum(["auto", "sandbox", "microvm"]).default("auto"),
      maxConcurrentDownloads: z.number().int().min(1).max(32).default(3),
    })
    .prefault({}),
  power: z
    .strictObject({
      registry: z.string().default("registry.ollama.ai"),
      host: z.string().default("127.0.0.1:11434"),
      /** llama.cpp threads; unset means the physical core count. */
      threads: z.number().int().min(1).optional(),
      /** How long a model stays loaded after a request (Ollama's OLLAMA_KEEP_ALIVE). */
      keepAlive: z.string().default("5m"),
      maxLoadedModels: z.number().int().min(1).default(3),
      /** Requests waiting beyond those being served before new ones get 503. */
      maxQueue: z.number().int().min(1).default(512),
      /**
       * The context (num_ctx) models load with unless their Modelfile or the request sets one
       * (Ollama's OLLAMA_CONTEXT_LENGTH); 4096 when unset. Coding agents need 16k or more.
       */
      contextLength: z.number().int().min(256).optional(),
      /** Requests one loaded model decodes together (context sequences). */
      parallel: z.number().int().min(1).max(64).default(2),
      /** Prices per million tokens, for `power usage`: {"llama3.2:3b": {"input": 0.1, "output": 0.2}}. */
      prices: z
        .record(z.string(), z.strictObject({ input: z.number().min(0), output: z.number().min(0) }))
        .default({}),
    })
    .prefault({}),
  code: z
    .strictObject({
      model: z.string().optional(),
      providers: z.record(z.string(), ProviderSchema).default({}),
      permissions: PermissionsSchema.prefault({}),
      hooks: HooksSchema.default({}),
      mcpServers: z.record(z.string(), McpServerSchema).default({}),
      /** Model rounds (request + tool calls) one prompt may take before the agent stops. */
      maxRounds: z.number().int().min(1).default(50),
      /** Tokens a model may answer with per round. */
      maxTokens: z.number().int().min(1).default(8192),
      /** Context window per model id when the built-in table does not know it. */
      contextWindows: z.record(z.string(), z.number().int().min(1024)).default({}),
      /**
       * USD per million tokens per model id, replacing the built-in price table; cached prompt
       * tokens cost the input price unless cacheRead/cacheWrite say otherwise.
       */
      prices: z
        .record(
          z.string(),
          z.strictObject({
            input: z.number().min(0),
            output: z.number().min(0),
            cacheRead: z.number().min(0).optional(),
            cacheWrite: z.number().min(0).optional(),
          }),
        )
        .default({}),
    })
    .prefault({}),
  cron: z
    .strictObject({
      timezone: z.string().optional(),
      /** What the daemon does with due times it missed while down: record them, run the last, run all. */
      catchUp: z.enum(["none", "last", "all"]).default("none"),
    })
    .prefault({}),
  search: z
    .strictObject({
      engines: z.array(z.string()).default(["duckduckgo", "wikipedia", "brave", "mojeek"]),
      /** Per-engine time allowed; an engine past it is reported and the others' results returned. */
      timeoutMs: z.number().int().min(100).default(5000),
      /** The whole query's deadline, whatever the engines' timeouts. */
      deadlineMs: z.number().int().min(100).default(10_000),
      limit: z.number().int().min(1).max(200).default(10),
      /** http://, https:// or socks5:// URLs, used round-robin with health tracking. */
      proxies: z.array(z.string()).default([]),
      /** Engines that never go through the proxy pool (e.g. APIs that reject proxy addresses). */
      directEngines: z.array(z.string()).default([]),
      searxngUrl: z.string().url().optional(),
      /** Base URL per engine name, replacing the public one (mirrors, self-hosted instances, tests). */
      baseUrls: z.record(z.string(), z.string().url()).default({}),
      /** Name of the environment variable holding each API engine's key (keys never live here). */
      apiKeyEnv: z.record(z.string(), z.string()).default({}),
      /** Google Programmable Search engine id (cx); the key comes from apiKeyEnv.google. */
      googleCx: z.string().optional(),
      /** Stack Exchange site queried by the stackexchange engine. */
      stackexchangeSite: z.string().default("stackoverflow"),
      /** Weight per engine name in the consensus ranking, replacing the engine's own. */
      weights: z.record(z.string(), z.number().min(0).max(10)).default({}),
      lang: z.string().optional(),
      safe: z.enum(["off", "moderate", "strict"]).default("moderate"),
      /** How long a cached answer is reused; 0 turns the cache off. */
      cacheTtlSeconds: z.number().int().min(0).default(3600),
    })
    .prefault({}),
  http: z
    .strictObject({
      timeoutMs: z.number().int().min(100).default(30_000),
      retries: z.number().int().min(0).max(10).default(3),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(["debug", "info", "warn", "error"]).default("info") }).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Every environment variable that overrides a config key. README's table is generated from this. */
export const ENV_OVERRIDES = [
  {
    env: "A3S_REGISTRY_MIRRORS",
    key: "box.registryMirrors",
    description: "comma-separated registry mirrors",
  },
  {
    env: "A3S_INSECURE_REGISTRIES",
    key: "box.insecureRegistries",
    description: "registries reached over plain HTTP",
  },
  { env: "A3S_BOX_RUNTIME", key: "box.runtime", description: "OCI runtime: crun, runc or runsc" },
  { env: "A3S_ISOLATION", key: "box.isolation", description: "auto, sandbox or microvm" },
  {
    env: "A3S_POWER_REGISTRY",
    key: "power.registry",
    description: "model registry host (Ollama's by default)",
  },
  // Ollama's variables first, so the A3S_ one wins when both are set.
  { env: "OLLAMA_HOST", key: "power.host", description: "address power serve listens on (Ollama's)" },
  { env: "A3S_POWER_HOST", key: "power.host", description: "address power serve listens on" },
  { env: "OLLAMA_KEEP_ALIVE", key: "power.keepAlive", description: "default keep_alive of loaded models" },
  {
    env: "OLLAMA_MAX_LOADED_MODELS",
    key: "power.maxLoadedModels",
    description: "models kept loaded at once",
  },
  { env: "OLLAMA_NUM_PARALLEL", key: "power.parallel", description: "requests one model serves at once" },
  { env: "OLLAMA_MAX_QUEUE", key: "power.maxQueue", description: "waiting requests before 503" },
  {
    env: "OLLAMA_CONTEXT_LENGTH",
    key: "power.contextLength",
    description: "default num_ctx of loaded models (Ollama's)",
  },
  {
    env: "A3S_POWER_CONTEXT_LENGTH",
    key: "power.contextLength",
    description: "default num_ctx of loaded models",
  },
  { env: "A3S_CODE_MODEL", key: "code.model", description: "default model as provider/model" },
  { env: "A3S_SEARCH_ENGINES", key: "search.engines", description: "comma-separated default engines" },
  {
    env: "A3S_SEARCH_PROXIES",
    key: "search.proxies",
    description: "comma-separated search proxies (http, https, socks5)",
  },
  {
    env: "A3S_SEARCH_BASE_URLS",
    key: "search.baseUrls",
    description: 'engine base URLs as JSON, e.g. {"duckduckgo":"http://127.0.0.1:8080"}',
  },
  { env: "A3S_SEARCH_SEARXNG_URL", key: "search.searxngUrl", description: "SearXNG instance URL" },
  {
    env: "A3S_SEARCH_CACHE_TTL",
    key: "search.cacheTtlSeconds",
    description: "seconds a cached search answer is reused (0: off)",
  },
  { env: "A3S_LOG_LEVEL", key: "log.level", description: "debug, info, warn or error" },
] as const;

export type ConfigSource = "default" | "file" | "env";

export interface LoadedConfig {
  path: string;
  config: Config;
  /** Where each key that is not a default came from. */
  sources: Map<string, ConfigSource>;
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const file = readConfigFile(path);
  const sources = new Map<string, ConfigSource>();
  for (const key of leafKeys(file)) sources.set(key, "file");
  const merged = structuredClone(file);
  for (const override of ENV_OVERRIDES) {
    const raw = env[override.env];
    if (raw === undefined || raw === "") continue;
    const value = coerceValue(override.key, raw, `environment variable ${override.env}`);
    setPath(merged, override.key.split("."), value);
    sources.set(override.key, "env");
  }
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) throw invalidConfig(path, result.error, sources);
  return { path, config: result.data, sources };
}

/** The raw object in the file ({} when there is none). */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw fromSystemError(err, `cannot read ${path}`);
  }
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const { line, column } = lineAndColumn(text, first.offset);
    throw new A3sError(
      "usage",
      `${path}:${line}:${column}: invalid JSON (${printParseErrorCode(first.error)})`,
      {
        hint: "fix the file, or move it away to start from defaults",
      },
    );
  }
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new A3sError("usage", `${path}: the configuration must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The effective value of a key (defaults, file and environment applied). */
export function getConfigValue(loaded: LoadedConfig, key: string): unknown {
  assertKnownKey(key);
  return getPath(loaded.config, key.split("."));
}

/**
 * Sets a key in the file, keeping its comments and layout, after validating the whole result.
 * `raw` is what the user typed; it is converted to the key's type (numbers, booleans, lists).
 */
export function setConfigValue(path: string, key: string, raw: string | undefined): void {
  assertKnownKey(key);
  const text = existsSync(path) ? readFileSync(path, "utf8") : "{}\n";
  const current = readConfigFile(path);
  const value = raw === undefined ? undefined : coerceValue(key, raw, `value for ${key}`);
  const next = structuredClone(current);
  if (value === undefined) deletePath(next, key.split("."));
  else setPath(next, key.split("."), value);
  const result = ConfigSchema.safeParse(next);
  if (!result.success) throw invalidConfig(path, result.error, new Map());
  const edits = modify(text, key.split("."), value, {
    formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" },
  });
  const updated = applyEdits(text, edits);
  writeFileAtomic(path, updated.endsWith("\n") ? updated : `${updated}\n`);
}

/** Every leaf of the effective configuration, flattened to dotted keys, in schema order. */
export function listConfig(
  loaded: LoadedConfig,
): Array<{ key: string; value: unknown; source: ConfigSource }> {
  // Known keys first (so unset optional ones show up), then entries of records such as providers.
  const keys = knownKeys().filter((key) => !key.endsWith("<name>"));
  const isSection = (key: string) => keys.some((known) => known.startsWith(`${key}.`));
  for (const key of leafKeys(loaded.config as unknown as Record<string, unknown>)) {
    if (!keys.includes(key) && !isSection(key)) keys.push(key);
  }
  return keys.map((key) => ({
    key,
    value: getPath(loaded.config, key.split(".")),
    source: loaded.sources.get(key) ?? "default",
  }));
}

type AnySchema = z.core.$ZodType;

/** The schema of a dotted key, looking through defaults, optionals and records. */
function schemaAt(key: string): AnySchema | undefined {
  let schema: AnySchema = ConfigSchema;
  for (const part of key.split(".")) {
    schema = unwrap(schema);
    const def = schema._zod.def as { type: string; shape?: Record<string, AnySchema>; valueType?: AnySchema };
    if (def.type === "object" && def.shape) {
      const next = def.shape[part];
      if (next === undefined) return undefined;
      schema = next;
    } else if (def.type === "record" && def.valueType) {
      schema = def.valueType;
    } else {
      return undefined;
    }
  }
  return unwrap(schema);
}

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: AnySchema };
    if (def.innerType !== undefined && ["default", "prefault", "optional", "nullable"].includes(def.type)) {
      current = def.innerType;
    } else {
      return current;
    }
  }
}

export function knownKeys(): string[] {
  const keys: string[] = [];
  const walk = (schema: AnySchema, prefix: string) => {
    const def = unwrap(schema)._zod.def as { type: string; shape?: Record<string, AnySchema> };
    if (def.type === "object" && def.shape) {
      for (const [name, child] of Object.entries(def.shape)) walk(child, prefix ? `${prefix}.${name}` : name);
    } else if (def.type === "record") {
      keys.push(`${prefix}.<name>`);
    } else {
      keys.push(prefix);
    }
  };
  walk(ConfigSchema, "");
  return keys;
}

function assertKnownKey(key: string): void {
  if (schemaAt(key) !== undefined) return;
  const known = knownKeys();
  const section = key.split(".")[0];
  const near = known.filter((k) => k.startsWith(`${section}.`));
  throw new A3sError("usage", `unknown config key '${key}'`, {
    hint: `known keys${near.length > 0 ? ` in ${section}` : ""}: ${(near.length > 0 ? near : known).join(", ")}`,
  });
}

function coerceValue(key: string, raw: string, what: string): unknown {
  const schema = schemaAt(key);
  const type = schema ? (schema._zod.def as { type: string }).type : "string";
  const trimmed = raw.trim();
  switch (type) {
    case "array":
      if (trimmed.startsWith("[")) return parseJson(trimmed, what);
      return trimmed === ""
        ? []
        : trimmed
            .split(",")
            .map((item) => item.trim())
            .filter(Boolean);
    case "number": {
      const value = Number(trimmed);
      if (trimmed === "" || !Number.isFinite(value)) {
        throw new A3sError("usage", `${what}: '${raw}' is not a number`);
      }
      return value;
    }
    case "boolean":
      if (/^(true|1|yes|on)$/i.test(trimmed)) return true;
      if (/^(false|0|no|off)$/i.test(trimmed)) return false;
      throw new A3sError("usage", `${what}: '${raw}' is not true or false`);
    case "object":
    case "record":
      return parseJson(trimmed, what);
    default:
      return raw;
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new A3sError("usage", `${what}: not valid JSON`);
  }
}

function invalidConfig(path: string, error: z.ZodError, sources: Map<string, ConfigSource>): A3sError {
  const issue = error.issues[0];
  const field = issue ? [...issue.path, ...("keys" in issue ? [issue.keys[0]] : [])].join(".") : "";
  const fromEnv = ENV_OVERRIDES.find((o) => o.key === field && sources.get(field) === "env");
  const where = fromEnv ? `environment variable ${fromEnv.env}` : path;
  const reason = issue?.code === "unrecognized_keys" ? "unknown key" : (issue?.message ?? "invalid");
  return new A3sError("usage", `invalid configuration in ${where}: ${field}: ${reason}`, {
    hint: "see 'a3s config list' for the keys and their types",
  });
}

function leafKeys(value: Record<string, unknown>, prefix = ""): string[] {
  const keys: string[] = [];
  for (const [name, child] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (
      child !== null &&
      typeof child === "object" &&
      !Array.isArray(child) &&
      Object.keys(child).length > 0
    ) {
      keys.push(...leafKeys(child as Record<string, unknown>, key));
    } else {
      keys.push(key);
    }
  }
  return keys;
}

function getPath(value: unknown, parts: string[]): unknown {
  let current = value;
  for (const part of parts) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function setPath(target: Record<string, unknown>, parts: string[], value: unknown): void {
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1] as string] = value;
}

function deletePath(target: Record<string, unknown>, parts: string[]): void {
  const parent = getPath(target, parts.slice(0, -1));
  if (parent !== null && typeof parent === "object") {
    delete (parent as Record<string, unknown>)[parts[parts.length - 1] as string];
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}
