/**
 * Image records in SQLite: an image is identified by its config digest (Docker's image ID); tags
 * (docker.io/library/alpine:latest) and repo digests (docker.io/library/alpine@sha256:…) point at it.
 */
import type { Database } from "bun:sqlite";
import { A3sError } from "../../core/errors.ts";
import type { ImageConfig, Platform } from "./manifest.ts";
import {
  familiarReference,
  formatReference,
  type ImageReference,
  parseReference,
  repositoryName,
  tagName,
} from "./reference.ts";

export interface LayerRecord {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

export interface ImageRecord {
  id: string;
  manifestDigest: string;
  manifestMediaType: string;
  platform: Platform;
  /** Compressed size: config plus layers, as `docker images` reports for pulled images. */
  size: number;
  created: string | undefined;
  pulledAt: string;
  config: ImageConfig;
  layers: LayerRecord[];
  tags: string[];
  repoDigests: string[];
}

interface ImageRow {
  id: string;
  manifest_digest: string;
  manifest_media_type: string;
  os: string;
  architecture: string;
  variant: string | null;
  size: number;
  created: string | null;
  pulled_at: string;
  config: string;
  layers: string;
}

export type NewImage = Omit<ImageRecord, "tags" | "repoDigests" | "pulledAt">;

export class ImageStore {
  constructor(private readonly db: Database) {}

  /** Records an image and points `tag` (and the repo digest) at it; a tag moves off its old image. */
  save(image: NewImage, ref: ImageReference | undefined, repoDigest = image.manifestDigest): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.db
        .query(
          `INSERT INTO images (id, manifest_digest, manifest_media_type, os, architecture, variant, size, created, pulled_at, config, layers)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
             manifest_media_type = excluded.manifest_media_type, pulled_at = excluded.pulled_at`,
        )
        .run(
          image.id,
          image.manifestDigest,
          image.manifestMediaType,
          image.platform.os,
          image.platform.architecture,
          image.platform.variant ?? null,
          image.size,
          image.created ?? null,
          now,
          JSON.stringify(image.config),
          JSON.stringify(image.layers),
        );
      if (ref === undefined) return;
      const tag = tagName(ref);
      if (tag) this.setTag(tag, image.id, now);
      this.db
        .query("INSERT OR REPLACE INTO image_repo_digests (reference, image_id) VALUES (?, ?)")
        .run(`${repositoryName(ref)}@${repoDigest}`, image.id);
    })();
  }

  private setTag(reference: string, imageId: string, now: string): void {
    this.db
      .query("INSERT OR REPLACE INTO image_tags (reference, image_id, tagged_at) VALUES (?, ?, ?)")
      .run(reference, imageId, now);
  }

  tag(imageId: string, target: ImageReference): void {
    if (!target.tag || target.digest) {
      throw new A3sError("usage", "a tag must be name:tag, not a digest");
    }
    this.setTag(formatReference(target), imageId, new Date().toISOString());
  }

  /** Removes one tag; returns true when the image has no tags left. */
  untag(reference: string, imageId: string): boolean {
    this.db.query("DELETE FROM image_tags WHERE reference = ?").run(reference);
    this.db
      .query("DELETE FROM image_repo_digests WHERE image_id = ? AND reference LIKE ?")
      .run(imageId, `${reference.replace(/:[^:/]+$/, "")}@%`);
    return this.get(imageId)?.tags.length === 0;
  }

  delete(imageId: string): void {
    this.db.query("DELETE FROM images WHERE id = ?").run(imageId);
  }

  get(id: string): ImageRecord | undefined {
    const row = this.db.query("SELECT * FROM images WHERE id = ?").get(id) as ImageRow | null;
    return row ? this.hydrate(row) : undefined;
  }

  list(): ImageRecord[] {
    const rows = this.db.query("SELECT * FROM images ORDER BY pulled_at DESC").all() as ImageRow[];
    return rows.map((row) => this.hydrate(row));
  }

  /**
   * Finds an image the way Docker does: a reference (alpine, alpine:3, repo@digest), a full or short
   * image ID (sha256:… or a unique hex prefix).
   */
  resolve(text: string): ImageRecord | undefined {
    const idPrefix = text.startsWith("sha256:") ? text.slice(7) : text;
    if (/^[a-f0-9]{4,64}$/.test(idPrefix)) {
      const rows = this.db
        .query("SELECT id FROM images WHERE id LIKE ?")
        .all(`sha256:${idPrefix}%`) as Array<{ id: string }>;
      if (rows.length > 1) {
        throw new A3sError("conflict", `image ID prefix '${text}' is ambiguous (${rows.length} images)`, {
          hint: "use more characters of the ID",
        });
      }
      const [only] = rows;
      if (only) return this.get(only.id);
    }
    let ref: ImageReference;
    try {
      ref = parseReference(text);
    } catch (err) {
      if (/^[a-f0-9]{4,64}$/.test(idPrefix)) return undefined;
      throw err;
    }
    const key = ref.digest ? `${repositoryName(ref)}@${ref.digest}` : formatReference(ref);
    const table = ref.digest ? "image_repo_digests" : "image_tags";
    const row = this.db.query(`SELECT image_id FROM ${table} WHERE reference = ?`).get(key) as {
      image_id: string;
    } | null;
    return row ? this.get(row.image_id) : undefined;
  }

  /** Digests of every blob any image needs (configs and layers), for garbage collection. */
  referencedBlobs(): Set<string> {
    const keep = new Set<string>();
    for (const image of this.list()) {
      keep.add(image.id);
      keep.add(image.manifestDigest);
      for (const layer of image.layers) keep.add(layer.digest);
    }
    return keep;
  }

  referencedDiffIds(): Set<string> {
    return new Set(this.list().flatMap((image) => image.layers.map((layer) => layer.diffId)));
  }

  private hydrate(row: ImageRow): ImageRecord {
    const tags = this.db
      .query("SELECT reference FROM image_tags WHERE image_id = ? ORDER BY reference")
      .all(row.id) as Array<{
      reference: string;
    }>;
    const digests = this.db
      .query("SELECT reference FROM image_repo_digests WHERE image_id = ? ORDER BY reference")
      .all(row.id) as Array<{ reference: string }>;
    return {
      id: row.id,
      manifestDigest: row.manifest_digest,
      manifestMediaType: row.manifest_media_type,
      platform: {
        os: row.os,
        architecture: row.architecture,
        ...(row.variant ? { variant: row.variant } : {}),
      },
      size: row.size,
      created: row.created ?? undefined,
      pulledAt: row.pulled_at,
      config: JSON.parse(row.config) as ImageConfig,
      layers: JSON.parse(row.layers) as LayerRecord[],
      tags: tags.map((t) => t.reference),
      repoDigests: digests.map((d) => d.reference),
    };
  }
}

/** `alpine:latest` style names of an image's tags, for display. */
export function familiarTags(image: ImageRecord): string[] {
  return image.tags.map((tag) => familiarReference(parseReference(tag)));
}
