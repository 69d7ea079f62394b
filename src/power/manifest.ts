/**
 * Ollama's model manifests: Docker schema2 documents whose layers are the parts of a model (GGUF
 * weights, prompt template, system prompt, parameters, license, projector, adapter), plus the model
 * config blob that carries its family, size and quantization.
 */
import { z } from "zod";
import { A3sError } from "../core/errors.ts";

export const MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json";
export const CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json";

export const LAYER_MEDIA = {
  model: "application/vnd.ollama.image.model",
  template: "application/vnd.ollama.image.template",
  system: "application/vnd.ollama.image.system",
  params: "application/vnd.ollama.image.params",
  license: "application/vnd.ollama.image.license",
  projector: "application/vnd.ollama.image.projector",
  adapter: "application/vnd.ollama.image.adapter",
  messages: "application/vnd.ollama.image.messages",
} as const;

export type LayerKind = keyof typeof LAYER_MEDIA;

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, "expected a sha256 digest");

const DescriptorSchema = z.object({
  mediaType: z.string(),
  digest: Digest,
  size: z.number().int().nonnegative(),
  from: z.string().optional(),
});

const ManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
});

export type Descriptor = z.infer<typeof DescriptorSchema>;
export type OllamaManifest = z.infer<typeof ManifestSchema>;

/** The config blob (Ollama's ConfigV2); every field is optional in what registries serve. */
export interface ModelConfig {
  model_format?: string;
  /** Set by create when the model derives from another (Ollama's details.parent_model). */
  parent_model?: string;
  model_family?: string;
  model_families?: string[] | null;
  model_type?: string;
  file_type?: string;
  architecture?: string;
  os?: string;
  rootfs?: { type: string; diff_ids: string[] };
}

function decode(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new A3sError("integrity", `${what} is not valid JSON`);
  }
}

/** Validates a manifest; image indexes and OCI image manifests of other kinds are refused. */
export function parseOllamaManifest(bytes: Uint8Array): OllamaManifest {
  const json = decode(bytes, "model manifest") as Record<string, unknown>;
  if (Array.isArray(json?.manifests)) {
    throw new A3sError("usage", "this is an image index, not a model manifest", {
      hint: "container images are pulled with 'a3s box pull'",
    });
  }
  const result = ManifestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new A3sError(
      "integrity",
      `malformed model manifest: ${issue?.path.join(".") || "document"}: ${issue?.message}`,
    );
  }
  const manifest = result.data;
  if (!manifest.layers.some((layer) => layer.mediaType === LAYER_MEDIA.model)) {
    const image = manifest.layers.some((layer) => layer.mediaType.includes(".image.rootfs."));
    throw new A3sError("usage", "the manifest has no model layer", {
      hint: image ? "this is a container image: pull it with 'a3s box pull'" : "is this an Ollama model?",
    });
  }
  return manifest;
}

export function parseModelConfig(bytes: Uint8Array): ModelConfig {
  const json = decode(bytes, "model config");
  return json !== null && typeof json === "object" ? (json as ModelConfig) : {};
}

/** The layers of a kind, in manifest order (a model may have several adapters or projectors). */
export function layersOf(manifest: OllamaManifest, kind: LayerKind): Descriptor[] {
  return manifest.layers.filter((layer) => layer.mediaType === LAYER_MEDIA[kind]);
}

/** Every blob the manifest references, config included, each digest once. */
export function blobsOf(manifest: OllamaManifest): Descriptor[] {
  const seen = new Set<string>();
  const result: Descriptor[] = [];
  for (const descriptor of [...manifest.layers, manifest.config]) {
    if (seen.has(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    result.push(descriptor);
  }
  return result;
}

/** What `ollama list` reports as a model's size: its layers and its config. */
export function manifestSize(manifest: OllamaManifest): number {
  return [...manifest.layers, manifest.config].reduce((sum, layer) => sum + layer.size, 0);
}
