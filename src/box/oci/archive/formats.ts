/**
 * Reads the images an extracted archive holds, in either format: an OCI image layout (index.json
 * and its blobs) and a Docker archive (manifest.json, with the Docker 1.10–24 layout of
 * <id>/layer.tar directories and its `repositories` file). Docker 25+ writes both at once.
 */
import { statSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";
import { A3sError } from "../../../core/errors.ts";
import {
  type Descriptor,
  hostPlatform,
  type ImageConfig,
  type ImageManifest,
  parseImageConfig,
  parseManifest,
  selectPlatform,
} from "../manifest.ts";
import { formatReference, type ImageReference, parseReference } from "../reference.ts";
import type { ArchiveDir } from "./archive-dir.ts";
import { unsafe } from "./errors.ts";
import { IMAGE_NAME, REF_NAME, sha256 } from "./oci-manifest.ts";

/** An image found in the archive, not yet verified against its layers nor stored. */
export interface Candidate {
  id: string;
  configBytes: Uint8Array;
  config: ImageConfig;
  /** The archive's own manifest (OCI layouts have one); Docker archives get one generated. */
  manifest?: { digest: string; mediaType: string };
  layers: Array<{ file: string; digest?: string; size: number; mediaType?: string; diffId: string }>;
  tags: ImageReference[];
}

export function readArchive(dir: ArchiveDir): Candidate[] {
  const oci = dir.has("index.json") ? readOciLayout(dir) : undefined;
  const docker = dir.has("manifest.json") ? readDockerArchive(dir) : undefined;
  if (!oci && !docker) {
    throw new A3sError("usage", "not an image archive: it has neither index.json nor manifest.json", {
      hint: "a3s box load reads archives made by docker save, a3s box save, skopeo and other OCI tools",
    });
  }
  // Docker 25+ writes both; the OCI side has the real manifests, manifest.json may add tags.
  const byId = new Map<string, Candidate>();
  for (const candidate of [...(oci ?? []), ...(docker ?? [])]) {
    const known = byId.get(candidate.id);
    if (!known) byId.set(candidate.id, candidate);
    else for (const tag of candidate.tags) addTag(known.tags, tag);
  }
  return [...byId.values()];
}

function addTag(tags: ImageReference[], tag: ImageReference): void {
  if (!tags.some((t) => formatReference(t) === formatReference(tag))) tags.push(tag);
}

/** A reference to tag an image with; references that name only a digest tag nothing. */
function tagReference(text: string, where: string): ImageReference | undefined {
  let ref: ImageReference;
  try {
    ref = parseReference(text);
  } catch (err) {
    throw unsafe(`${where} names an invalid image reference '${text}': ${(err as Error).message}`);
  }
  if (!ref.tag) return undefined;
  const { digest: _, ...tagged } = ref;
  return tagged;
}

function checkLayers(config: ImageConfig, count: number, what: string): string[] {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== count) {
    throw unsafe(`${what}: the config lists ${diffIds.length} layers but the manifest has ${count}`);
  }
  return diffIds;
}

function readOciLayout(dir: ArchiveDir): Candidate[] {
  const parsed = parseManifest(dir.read("index.json", "index.json"), "");
  if (parsed.kind !== "index") throw unsafe("index.json is not an image index");
  const candidates: Candidate[] = [];
  for (const entry of parsed.index.manifests) {
    const { manifest, descriptor } = ociManifestOf(dir, entry, 0);
    const configBytes = dir.blob(manifest.config, "image config");
    const config = parseImageConfig(configBytes);
    const diffIds = checkLayers(config, manifest.layers.length, `image ${descriptor.digest}`);
    const name = entry.annotations?.[IMAGE_NAME];
    const refName = entry.annotations?.[REF_NAME];
    // ref.name is usually a bare tag ("latest"), which names no repository; only a full name tags.
    const text = name ?? (refName && /[:/]/.test(refName) ? refName : undefined);
    const tag = text === undefined ? undefined : tagReference(text, "index.json");
    candidates.push({
      id: manifest.config.digest,
      configBytes,
      config,
      manifest: { digest: descriptor.digest, mediaType: descriptor.mediaType },
      layers: manifest.layers.map((layer, i) => ({
        file: dir.blobPath(layer.digest, "layer"),
        digest: layer.digest,
        size: layer.size,
        mediaType: layer.mediaType,
        diffId: diffIds[i] as string,
      })),
      tags: tag ? [tag] : [],
    });
  }
  return candidates;
}

/** An index entry's image manifest; a multi-platform entry resolves to this host's platform. */
function ociManifestOf(
  dir: ArchiveDir,
  descriptor: Descriptor,
  depth: number,
): { manifest: ImageManifest; descriptor: Descriptor } {
  const parsed = parseManifest(dir.blob(descriptor, "manifest"), descriptor.mediaType);
  if (parsed.kind === "manifest") return { manifest: parsed.manifest, descriptor };
  if (depth > 0) throw new A3sError("usage", "nested image indexes are not supported");
  return ociManifestOf(dir, selectPlatform(parsed.index, hostPlatform()), depth + 1);
}

const DockerManifestSchema = z.array(
  z.object({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);
const RepositoriesSchema = z.record(z.string(), z.record(z.string(), z.string()));

function readDockerArchive(dir: ArchiveDir): Candidate[] {
  const parsed = DockerManifestSchema.safeParse(dir.json("manifest.json", "manifest.json"));
  if (!parsed.success) throw unsafe(`manifest.json is malformed: ${parsed.error.issues[0]?.message}`);
  const repositories = dir.has("repositories")
    ? RepositoriesSchema.safeParse(dir.json("repositories", "repositories")).data
    : undefined;
  return parsed.data.map((entry) => {
    const configBytes = dir.read(entry.Config, "image config");
    const id = sha256(configBytes);
    const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(entry.Config)?.[1];
    if (named && `sha256:${named}` !== id) {
      throw unsafe(`image config '${entry.Config}' is corrupt: its content hashes to ${id}`);
    }
    const config = parseImageConfig(configBytes);
    const diffIds = checkLayers(config, entry.Layers.length, `image ${id}`);
    const layers = entry.Layers.map((path, i) => {
      const file = dir.member(path, "layer");
      // Docker 25+ names layers by digest; older archives (<id>/layer.tar, <hex>.tar) are hashed.
      const hex = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path)?.[1];
      return {
        file,
        size: statSync(file).size,
        diffId: diffIds[i] as string,
        ...(hex ? { digest: `sha256:${hex}` } : {}),
      };
    });
    const tags: ImageReference[] = [];
    for (const text of entry.RepoTags ?? []) {
      const tag = tagReference(text, "manifest.json");
      if (tag) addTag(tags, tag);
    }
    if (tags.length === 0 && repositories) {
      // Older archives tag through `repositories`: {"alpine": {"latest": "<top layer id>"}}.
      const last = entry.Layers.at(-1) ?? "";
      const top = last.endsWith("/layer.tar")
        ? last.slice(0, -"/layer.tar".length)
        : basename(last).replace(/\.tar$/, "");
      for (const [repository, byTag] of Object.entries(repositories)) {
        for (const [name, layerId] of Object.entries(byTag)) {
          const tag = layerId === top ? tagReference(`${repository}:${name}`, "repositories") : undefined;
          if (tag) addTag(tags, tag);
        }
      }
    }
    return { id, configBytes, config, layers, tags };
  });
}
