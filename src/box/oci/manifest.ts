/**
 * Image manifests, indexes and configs in both dialects: OCI (application/vnd.oci.*) and Docker
 * schema2 (application/vnd.docker.*), with platform selection from indexes / manifest lists.
 */
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayer: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

const INDEX_TYPES: readonly string[] = [MEDIA.ociIndex, MEDIA.dockerList];
const MANIFEST_TYPES: readonly string[] = [MEDIA.ociManifest, MEDIA.dockerManifest];
const LAYER_TYPES: readonly string[] = [
  MEDIA.ociLayer,
  MEDIA.ociLayerGzip,
  MEDIA.ociLayerZstd,
  MEDIA.dockerLayerGzip,
  MEDIA.dockerForeignLayer,
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
];

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, "expected a sha256 digest");

const PlatformSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  "os.version": z.string().optional(),
});

const DescriptorSchema = z.object({
  mediaType: z.string(),
  digest: Digest,
  size: z.number().int().nonnegative(),
  platform: PlatformSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  urls: z.array(z.string()).optional(),
});

const ManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});

const IndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
});

export type Platform = z.infer<typeof PlatformSchema>;
export type Descriptor = z.infer<typeof DescriptorSchema>;
export type ImageManifest = z.infer<typeof ManifestSchema>;
export type ImageIndex = z.infer<typeof IndexSchema>;

/** The parts of the image config a3s reads; the whole JSON is kept verbatim in the store. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
    Volumes?: Record<string, object> | null;
    StopSignal?: string;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean; comment?: string }>;
}

export type Parsed = { kind: "index"; index: ImageIndex } | { kind: "manifest"; manifest: ImageManifest };

function decode(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new A3sError("integrity", "manifest is not valid JSON");
  }
}

/** Classifies and validates a manifest document by its media type (or its shape when none is given). */
export function parseManifest(bytes: Uint8Array, mediaType: string): Parsed {
  const json = decode(bytes) as Record<string, unknown>;
  const type = mediaType || (typeof json.mediaType === "string" ? json.mediaType : "");
  const isIndex = INDEX_TYPES.includes(type) || (type === "" && Array.isArray(json.manifests));
  if (isIndex) {
    const result = IndexSchema.safeParse(json);
    if (!result.success) throw malformed("image index", result.error);
    return { kind: "index", index: result.data };
  }
  if (type !== "" && !MANIFEST_TYPES.includes(type)) {
    throw new A3sError("usage", `unsupported manifest type '${type}'`, {
      hint: "a3s reads OCI and Docker schema2 images; schema1 images are deprecated and not supported",
    });
  }
  const result = ManifestSchema.safeParse(json);
  if (!result.success) throw malformed("image manifest", result.error);
  for (const layer of result.data.layers) {
    if (!LAYER_TYPES.includes(layer.mediaType)) {
      throw new A3sError("usage", `unsupported layer type '${layer.mediaType}'`, {
        hint: "this looks like an artifact, not a runnable image",
      });
    }
  }
  return { kind: "manifest", manifest: result.data };
}

function malformed(what: string, error: z.ZodError): A3sError {
  const issue = error.issues[0];
  return new A3sError(
    "integrity",
    `malformed ${what}: ${issue?.path.join(".") || "document"}: ${issue?.message}`,
  );
}

const ARCH_NAMES: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
};

export function hostPlatform(): Platform {
  const architecture = ARCH_NAMES[process.arch] ?? process.arch;
  return { os: "linux", architecture, ...(architecture === "arm64" ? { variant: "v8" } : {}) };
}

/** Parses `linux/arm64`, `linux/arm/v7`, `amd64` (os defaults to linux). */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split("/");
  const [first = "", second, third, extra] = parts;
  if (extra !== undefined || first === "" || parts.some((p) => p === "")) {
    throw new A3sError("usage", `invalid platform '${text}'`, {
      hint: "use os/arch[/variant], e.g. linux/arm64",
    });
  }
  const [os, architecture, variant] =
    second === undefined ? ["linux", first, undefined] : [first, second, third];
  const normalised =
    architecture === "x86_64" ? "amd64" : architecture === "aarch64" ? "arm64" : architecture;
  return { os, architecture: normalised, ...(variant ? { variant } : {}) };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

/**
 * Chooses the manifest for a platform as containerd does: os and architecture must match; a variant
 * asked for must match, and arm64's default variant v8 also matches entries that omit it.
 */
export function selectPlatform(index: ImageIndex, wanted: Platform): Descriptor {
  const candidates = index.manifests.filter(
    (m) =>
      m.platform !== undefined &&
      m.platform.os === wanted.os &&
      m.platform.architecture === wanted.architecture &&
      MANIFEST_TYPES.concat(INDEX_TYPES).includes(m.mediaType),
  );
  const variantMatches = (m: Descriptor) => {
    const have = m.platform?.variant;
    if (wanted.variant === undefined) return true;
    return (
      have === wanted.variant ||
      (have === undefined && wanted.architecture === "arm64" && wanted.variant === "v8")
    );
  };
  const exact =
    candidates.find((m) => m.platform?.variant === wanted.variant) ?? candidates.find(variantMatches);
  if (exact) return exact;
  const available = index.manifests
    .filter((m) => m.platform && m.platform.os !== "unknown")
    .map((m) => formatPlatform(m.platform as Platform));
  throw new A3sError("not_found", `no image for platform ${formatPlatform(wanted)}`, {
    hint: available.length > 0 ? `available: ${available.join(", ")}` : "the index lists no platforms",
  });
}

export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const json = decode(bytes) as ImageConfig;
  if (json === null || typeof json !== "object" || !Array.isArray(json.rootfs?.diff_ids)) {
    throw new A3sError("integrity", "image config has no rootfs.diff_ids");
  }
  return json;
}
