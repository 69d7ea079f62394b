/**
 * The LLM providers of `a3s code`: one streaming interface (`Provider` in ../types.ts) over two wire
 * protocols, configured by name.
 *
 * Supported (built-in presets; a name in `code.providers` overrides or adds to them):
 *
 *   name        protocol            key (env)            base URL
 *   anthropic   Anthropic Messages  ANTHROPIC_API_KEY    https://api.anthropic.com  (ANTHROPIC_BASE_URL;
 *                                   or ANTHROPIC_AUTH_TOKEN, sent as a bearer token to a gateway)
 *   openai      Chat Completions    OPENAI_API_KEY       https://api.openai.com/v1  (OPENAI_BASE_URL)
 *   deepseek    Chat Completions    DEEPSEEK_API_KEY     https://api.deepseek.com/v1
 *   openrouter  Chat Completions    OPENROUTER_API_KEY   https://openrouter.ai/api/v1
 *   ollama      Chat Completions    none                 http://127.0.0.1:11434/v1
 *   local       Chat Completions    none                 `a3s power serve` at power.host, /v1
 *
 * Any other OpenAI-compatible server (vLLM, LM Studio, a gateway) is a `code.providers` entry:
 *   "vllm": { "type": "openai", "baseUrl": "http://gpu-box:8000/v1", "models": ["qwen3-coder"] }
 *
 * Models are named "provider/model"; the model part may itself contain "/" (OpenRouter's
 * "openrouter/anthropic/claude-sonnet-4"). Keys never live in the config, only the name of the
 * variable holding them (`apiKeyEnv`).
 */
import type { Config } from "../../core/config.ts";
import { A3sError } from "../../core/errors.ts";
import { clientUrl, parseHostPort } from "../../power/server/address.ts";
import type { Provider } from "../types.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { knownModels } from "./models.ts";
import { createOpenAiProvider } from "./openai.ts";
import type { TransportOptions } from "./transport.ts";

export type ProviderType = "anthropic" | "openai";

export interface ProviderSettings {
  name: string;
  type: ProviderType;
  baseUrl: string;
  /** The variable holding the key; undefined for servers that take none. */
  keyEnv?: string;
  apiKey?: string;
  /** A bearer token instead of (or beside) the key, for gateways: Claude Code's ANTHROPIC_AUTH_TOKEN. */
  authToken?: string;
  headers: Record<string, string>;
  /** Models offered by /model for this provider. */
  models: string[];
}

interface Preset {
  type: ProviderType;
  baseUrl: string;
  keyEnv?: string;
  /** A variable whose value, when set, is sent as `Authorization: Bearer` (then the key is optional). */
  tokenEnv?: string;
  /** Overrides the base URL, as the vendors' own SDKs and CLIs read it. */
  baseUrlEnv?: string;
  headers?: Record<string, string>;
  /** Prefixes of built-in model ids offered for this provider. */
  families?: string[];
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  anthropic: {
    type: "anthropic",
    baseUrl: "https://api.anthropic.com",
    keyEnv: "ANTHROPIC_API_KEY",
    tokenEnv: "ANTHROPIC_AUTH_TOKEN",
    baseUrlEnv: "ANTHROPIC_BASE_URL",
    families: ["claude-"],
  },
  openai: {
    type: "openai",
    baseUrl: "https://api.openai.com/v1",
    keyEnv: "OPENAI_API_KEY",
    baseUrlEnv: "OPENAI_BASE_URL",
    families: ["gpt-", "o1", "o3", "o4"],
  },
  deepseek: {
    type: "openai",
    baseUrl: "https://api.deepseek.com/v1",
    keyEnv: "DEEPSEEK_API_KEY",
    families: ["deepseek-"],
  },
  openrouter: {
    type: "openai",
    baseUrl: "https://openrouter.ai/api/v1",
    keyEnv: "OPENROUTER_API_KEY",
    headers: { "X-Title": "a3s code" },
  },
  ollama: { type: "openai", baseUrl: "http://127.0.0.1:11434/v1" },
};

export type ProvidersConfig = Pick<Config, "code" | "power">;

/** The settings a provider name stands for: a `code.providers` entry laid over a preset. */
export function resolveProvider(
  name: string,
  config: ProvidersConfig,
  env: NodeJS.ProcessEnv,
): ProviderSettings {
  const entry = config.code.providers[name];
  const preset = name === "local" ? localPreset(config) : PRESETS[name];
  if (!entry && !preset) {
    throw new A3sError("usage", `unknown provider "${name}"`, {
      hint: `use one of ${[...providerNames(config)].join(", ")}, or add "${name}" to code.providers in ~/.a3s/config.json`,
    });
  }
  const type = entry?.type ?? preset!.type;
  const fromEnv = preset?.baseUrlEnv ? env[preset.baseUrlEnv] : undefined;
  const baseUrl =
    fromEnv ||
    entry?.baseUrl ||
    preset?.baseUrl ||
    (type === "anthropic" ? PRESETS.anthropic!.baseUrl : PRESETS.openai!.baseUrl);
  const keyEnv = entry?.apiKeyEnv ?? preset?.keyEnv;
  const settings: ProviderSettings = {
    name,
    type,
    baseUrl,
    headers: { ...preset?.headers, ...entry?.headers },
    models: entry?.models ?? (preset?.families ? knownModels(preset.families) : []),
  };
  const tokenEnv = entry?.apiKeyEnv ? undefined : preset?.tokenEnv;
  const token = tokenEnv ? env[tokenEnv]?.trim() : undefined;
  if (token) settings.authToken = token;
  if (keyEnv) {
    const key = env[keyEnv]?.trim();
    if (key) {
      settings.keyEnv = keyEnv;
      settings.apiKey = key;
    } else if (!token) {
      throw new A3sError("usage", `${name} needs an API key: ${keyEnv} is not set`, {
        hint: `export ${keyEnv}=…${tokenEnv ? ` (or ${tokenEnv}=… for a gateway)` : ""} or run a3s code to set up`,
      });
    }
  }
  return settings;
}

/** Throws A3sError usage when the provider is unknown or its key is missing. */
export function createProvider(
  name: string,
  config: ProvidersConfig,
  env: NodeJS.ProcessEnv = process.env,
  options: TransportOptions = {},
): Provider {
  const settings = resolveProvider(name, config, env);
  const wire = {
    name,
    baseUrl: settings.baseUrl,
    headers: settings.headers,
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    ...(settings.keyEnv ? { keyEnv: settings.keyEnv } : {}),
    ...(settings.authToken ? { authToken: settings.authToken } : {}),
  };
  return settings.type === "anthropic"
    ? createAnthropicProvider(wire, options)
    : createOpenAiProvider(wire, options);
}

const INFERRED: readonly [RegExp, string][] = [
  [/^claude-/, "anthropic"],
  [/^(gpt-|o\d)/, "openai"],
  [/^deepseek-/, "deepseek"],
];

/**
 * "openrouter/anthropic/claude-sonnet-4" → { provider: "openrouter", model: "anthropic/claude-sonnet-4" }.
 * A bare well-known id ("claude-sonnet-4-5", "gpt-4.1", "deepseek-chat") gets its vendor's provider.
 */
export function parseModelRef(ref: string): { provider: string; model: string } {
  const text = ref.trim();
  const slash = text.indexOf("/");
  if (slash > 0 && slash < text.length - 1)
    return { provider: text.slice(0, slash), model: text.slice(slash + 1) };
  if (slash === -1 && text !== "") {
    const inferred = INFERRED.find(([pattern]) => pattern.test(text));
    if (inferred) return { provider: inferred[1], model: text };
  }
  throw new A3sError("usage", `invalid model "${ref}": expected provider/model`, {
    hint: "for example anthropic/claude-sonnet-4-5, openai/gpt-4.1, ollama/qwen3:8b or local/<power model>",
  });
}

/** Every provider name usable here: the presets, "local" and the configured ones. */
export function providerNames(config: ProvidersConfig): Set<string> {
  return new Set([...Object.keys(PRESETS), "local", ...Object.keys(config.code.providers)]);
}

/**
 * "provider/model" refs for /model: each configured provider's `models`, plus the built-in models
 * of presets whose key is set. Local servers list their own models (power's store, Ollama's tags).
 */
export function listModelRefs(config: ProvidersConfig, env: NodeJS.ProcessEnv): string[] {
  const refs: string[] = [];
  for (const name of providerNames(config)) {
    let settings: ProviderSettings;
    try {
      settings = resolveProvider(name, config, env);
    } catch {
      continue; // no key: not offered
    }
    for (const model of settings.models) refs.push(`${name}/${model}`);
  }
  return refs;
}

function localPreset(config: ProvidersConfig): Preset {
  return { type: "openai", baseUrl: `${clientUrl(parseHostPort(config.power.host))}/v1` };
}
