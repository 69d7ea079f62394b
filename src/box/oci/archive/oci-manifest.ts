/**
 * The OCI pieces every archive shares: the index annotations that name images, the digest of a
 * document, and the OCI manifest generated for an image whose original manifest is not kept.
 */
import { createHash } from "node:crypto";
import type { LayerRecord } from "../images.ts";
import { type ImageManifest, MEDIA } from "../manifest.ts";
import type { LayerCompression } from "../unpack.ts";

/** Annotations Docker 25+ and containerd put on index.json entries. */
export const IMAGE_NAME = "io.containerd.image.name";
export const REF_NAME = "org.opencontainers.image.ref.name";
const encoder = new TextEncoder();

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const OCI_LAYER_TYPE: Record<string, string> = {
  [MEDIA.dockerLayerGzip]: MEDIA.ociLayerGzip,
  "application/vnd.docker.image.rootfs.diff.tar": MEDIA.ociLayer,
  [MEDIA.dockerForeignLayer]: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
};

export function layerType(compression: LayerCompression): string {
  return compression === "gzip"
    ? MEDIA.ociLayerGzip
    : compression === "zstd"
      ? MEDIA.ociLayerZstd
      : MEDIA.ociLayer;
}

export interface ManifestBlob {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
}

/**
 * The OCI manifest of an image whose original manifest bytes are not kept: compact JSON in the field
 * order registries and BuildKit use, so an OCI original written the same way gets its digest back.
 */
export function ociManifest(
  config: { digest: string; size: number },
  layers: readonly LayerRecord[],
): ManifestBlob {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((layer) => ({
      mediaType: OCI_LAYER_TYPE[layer.mediaType] ?? layer.mediaType,
      digest: layer.digest,
      size: layer.size,
    })),
  };
  const bytes = encoder.encode(JSON.stringify(manifest));
  return { bytes, digest: sha256(bytes), mediaType: MEDIA.ociManifest };
}
