/**
 * `a3s power show`: what Ollama's /api/show returns for a local model — its license, Modelfile,
 * parameters, template and system prompt from the manifest's layers, `details` from the model config
 * (filled in from the GGUF header where the config is silent) and `model_info` from the GGUF metadata.
 */
import { logger } from "../core/log.ts";
import type { PowerContext } from "./context.ts";
import { type GgufHeader, type GgufValue, parameterCount, readGgufFile } from "./gguf.ts";
import { layersOf, type ModelConfig, type OllamaManifest, parseModelConfig } from "./manifest.ts";
import { displayName, formatName, parseModelName } from "./name.ts";
import type { ModelDetails, ModelRecord, ModelStore } from "./store.ts";

const log = logger("power.show");

/** Ollama's /api/show response; empty strings are left out, as Go's omitempty does. */
export interface ShowResponse {
  license?: string;
  modelfile: string;
  parameters?: string;
  template?: string;
  system?: string;
  details: ModelDetails;
  model_info?: Record<string, unknown>;
  projector_info?: Record<string, unknown>;
  tensors?: Array<{ name: string; type: string; shape: number[] }>;
  capabilities: string[];
  modified_at: string;
}

/** Ollama's template when a model brings none. */
export const DEFAULT_TEMPLATE = "{{ .Prompt }}";

/** llama.cpp's llama_ftype names, by general.file_type (Ollama calls 4 MXFP4). */
const FILE_TYPES: Record<number, string> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  4: "MXFP4",
  7: "Q8_0",
  8: "Q5_0",
  9: "Q5_1",
  10: "Q2_K",
  11: "Q3_K_S",
  12: "Q3_K_M",
  13: "Q3_K_L",
  14: "Q4_K_S",
  15: "Q4_K_M",
  16: "Q5_K_S",
  17: "Q5_K_M",
  18: "Q6_K",
  19: "IQ2_XXS",
  20: "IQ2_XS",
  21: "Q2_K_S",
  22: "IQ3_XS",
  23: "IQ3_XXS",
  24: "IQ1_S",
  25: "IQ4_NL",
  26: "IQ3_S",
  27: "IQ3_M",
  28: "IQ2_S",
  29: "IQ2_M",
  30: "IQ4_XS",
  31: "IQ1_M",
  32: "BF16",
  36: "TQ1_0",
  37: "TQ2_0",
  38: "MXFP4_MOE",
};

export function fileTypeName(fileType: unknown): string {
  return typeof fileType === "number" ? (FILE_TYPES[fileType] ?? "unknown") : "unknown";
}

/** Ollama's format.HumanNumber: 3212749888 → "3.2B", 494032768 → "494.03M", 8000000000 → "8B". */
export function humanNumber(n: number): string {
  const scaled = (value: number, decimals: number, unit: string) =>
    `${Number.isInteger(value) ? value.toFixed(0) : value.toFixed(decimals)}${unit}`;
  if (n >= 1e9) return scaled(n / 1e9, 1, "B");
  if (n >= 1e6) return scaled(n / 1e6, 2, "M");
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}

function metadataParameterCount(header: GgufHeader): number {
  const declared = header.metadata.get("general.parameter_count");
  return typeof declared === "number" ? declared : parameterCount(header);
}

/** `details` as Ollama reports them: the config's fields, or what the GGUF header says. */
export function modelDetails(config: ModelConfig, header: GgufHeader | undefined): ModelDetails {
  const architecture = header?.metadata.get("general.architecture");
  const family = config.model_family || (typeof architecture === "string" ? architecture : "");
  return {
    parent_model: config.parent_model ?? "",
    format: config.model_format || "gguf",
    family,
    families: config.model_families ?? (family ? [family] : null),
    parameter_size: config.model_type || (header ? humanNumber(metadataParameterCount(header)) : ""),
    quantization_level:
      config.file_type || (header ? fileTypeName(header.metadata.get("general.file_type")) : ""),
  };
}

/** The config blob and the model layer's GGUF header (undefined when the weights are not GGUF). */
export async function readModelParts(
  store: ModelStore,
  manifest: OllamaManifest,
): Promise<{ config: ModelConfig; header: GgufHeader | undefined }> {
  const config = store.hasBlob(manifest.config.digest)
    ? parseModelConfig(store.readBlob(manifest.config.digest))
    : {};
  const weights = layersOf(manifest, "model")[0];
  let header: GgufHeader | undefined;
  if (weights) {
    try {
      header = await readGgufFile(store.blobPath(weights.digest));
    } catch (err) {
      log.warn(`cannot read the GGUF header of ${weights.digest}`, { error: err });
    }
  }
  return { config, header };
}

function jsonValue(value: GgufValue, verbose: boolean): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return verbose ? value.map((v) => jsonValue(v, verbose)) : null;
  return value;
}

/** GGUF metadata as /api/show's model_info: arrays are null unless verbose, as Ollama does. */
export function modelInfo(header: GgufHeader, verbose: boolean): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  for (const [key, value] of header.metadata) info[key] = jsonValue(value, verbose);
  info["general.parameter_count"] = metadataParameterCount(header);
  return Object.fromEntries(Object.entries(info).sort(([a], [b]) => a.localeCompare(b)));
}

/** The params layer's JSON: `{"stop": ["<|eot_id|>"], "temperature": 0.6}`. */
export function readParams(store: ModelStore, manifest: OllamaManifest): Record<string, unknown> {
  const layer = layersOf(manifest, "params")[0];
  if (!layer) return {};
  try {
    const json = JSON.parse(new TextDecoder().decode(store.readBlob(layer.digest)));
    return json !== null && typeof json === "object" && !Array.isArray(json) ? json : {};
  } catch {
    log.warn(`the params layer ${layer.digest} is not a JSON object`);
    return {};
  }
}

function paramEntries(params: Record<string, unknown>): Array<[string, unknown]> {
  return Object.keys(params)
    .sort()
    .flatMap((key) => {
      const value = params[key];
      return Array.isArray(value) ? value.map((v): [string, unknown] => [key, v]) : [[key, value]];
    });
}

/** /api/show's `parameters`: one `name<padding to 30> value` line each, strings quoted (Go's %#v). */
export function formatParameters(params: Record<string, unknown>): string {
  return paramEntries(params)
    .map(
      ([key, value]) =>
        `${key.padEnd(30)} ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
    )
    .join("\n");
}

/** A Modelfile argument as Ollama's parser writes it: quoted when it spans lines or has edge spaces. */
function quote(text: string): string {
  if (text.includes("\n") || text.startsWith(" ") || text.endsWith(" ")) {
    return text.includes('"') ? `"""${text}"""` : `"${text}"`;
  }
  return text;
}

export function textLayers(
  store: ModelStore,
  manifest: OllamaManifest,
  kind: "template" | "system" | "license",
): string[] {
  return layersOf(manifest, kind).map((layer) => new TextDecoder().decode(store.readBlob(layer.digest)));
}

export function capabilities(
  manifest: OllamaManifest,
  template: string,
  header: GgufHeader | undefined,
): string[] {
  const architecture = header?.metadata.get("general.architecture");
  const embedding = header?.metadata.has(`${architecture}.pooling_type`) === true;
  const result = [embedding ? "embedding" : "completion"];
  if (template.includes(".Tools")) result.push("tools");
  if (template.includes(".Suffix")) result.push("insert");
  const vision =
    layersOf(manifest, "projector").length > 0 ||
    [...(header?.metadata.keys() ?? [])].some((key) => key.includes(".vision."));
  if (vision) result.push("vision");
  if (template.includes(".Thinking")) result.push("thinking");
  return result;
}

export interface ShowOptions {
  verbose?: boolean;
}

export async function showModel(
  power: PowerContext,
  text: string,
  options: ShowOptions = {},
): Promise<{ record: ModelRecord; show: ShowResponse }> {
  const verbose = options.verbose === true;
  const name = parseModelName(text, power.registry.host);
  const record = power.store.require(name, text);
  const manifest = power.store.readManifest(record);
  const { store } = power;
  const { config, header } = await readModelParts(store, manifest);
  const params = readParams(store, manifest);
  const template = textLayers(store, manifest, "template")[0] ?? DEFAULT_TEMPLATE;
  const system = textLayers(store, manifest, "system")[0] ?? "";
  const licenses = textLayers(store, manifest, "license");

  const lines = [
    `# Modelfile generated by "a3s power show"`,
    "# To build a new Modelfile based on this, replace FROM with:",
    `# FROM ${displayName(name, power.registry.host)}`,
    "",
    ...layersOf(manifest, "model").map((layer) => `FROM ${store.blobPath(layer.digest)}`),
    ...layersOf(manifest, "adapter").map((layer) => `ADAPTER ${store.blobPath(layer.digest)}`),
    ...layersOf(manifest, "projector").map((layer) => `FROM ${store.blobPath(layer.digest)}`),
    `TEMPLATE ${quote(template)}`,
    ...(system ? [`SYSTEM ${quote(system)}`] : []),
    ...paramEntries(params).map(([key, value]) => `PARAMETER ${key} ${quote(String(value))}`),
    ...licenses.map((license) => `LICENSE ${quote(license)}`),
  ];

  const license = licenses.join("\n");
  const parameters = formatParameters(params);
  const show: ShowResponse = {
    ...(license ? { license } : {}),
    modelfile: `${lines.join("\n")}\n`,
    ...(parameters ? { parameters } : {}),
    template,
    ...(system ? { system } : {}),
    details: modelDetails(config, header),
    ...(header ? { model_info: modelInfo(header, verbose) } : {}),
    ...(await projectorInfo(store, manifest, verbose)),
    ...(header && verbose
      ? { tensors: header.tensors.map((t) => ({ name: t.name, type: t.typeName, shape: t.dims })) }
      : {}),
    capabilities: capabilities(manifest, template, header),
    modified_at: record.modifiedAt,
  };
  log.debug(`show ${formatName(name)}`);
  return { record, show };
}

async function projectorInfo(
  store: ModelStore,
  manifest: OllamaManifest,
  verbose: boolean,
): Promise<{ projector_info?: Record<string, unknown> }> {
  const projector = layersOf(manifest, "projector")[0];
  if (!projector) return {};
  try {
    return { projector_info: modelInfo(await readGgufFile(store.blobPath(projector.digest)), verbose) };
  } catch {
    return {};
  }
}
