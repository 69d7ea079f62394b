/**
 * The model store, in Ollama's layout so blobs are shared between tags and tools that know Ollama's
 * directory can read it: power/models/manifests/<host>/<namespace>/<model>/<tag> holds each manifest
 * verbatim (its sha256 is the model's ID), power/models/blobs/sha256-<hex> every layer and config.
 * SQLite keeps one record per name (digest, size, details, the blobs it uses) for list, rm and cp.
 */
import type { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { A3sError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { blobsOf, manifestSize, type OllamaManifest, parseOllamaManifest } from "./manifest.ts";
import { formatName, type ModelName, manifestSegments, parseModelName } from "./name.ts";

/** /api/tags' and /api/show's `details`. */
export interface ModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[] | null;
  parameter_size: string;
  quantization_level: string;
}

export interface ModelRecord {
  name: ModelName;
  /** sha256:… of the manifest bytes; its first 12 hex digits are the ID `list` shows. */
  digest: string;
  size: number;
  blobs: string[];
  details: ModelDetails;
  modifiedAt: string;
}

interface ModelRow {
  name: string;
  digest: string;
  size: number;
  blobs: string;
  details: string;
  modified_at: string;
}

export function digestHex(digest: string): string {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!match) throw new A3sError("integrity", `unsupported or malformed digest '${digest}'`);
  return match[1] as string;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export class ModelStore {
  readonly blobsDir: string;
  readonly manifestsDir: string;

  constructor(
    readonly root: string,
    private readonly db: Database,
  ) {
    this.blobsDir = join(root, "blobs");
    this.manifestsDir = join(root, "manifests");
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, `sha256-${digestHex(digest)}`);
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  blobSize(digest: string): number {
    return statSync(this.blobPath(digest)).size;
  }

  readBlob(digest: string): Uint8Array {
    try {
      return readFileSync(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      throw new A3sError("not_found", `blob ${digest} of this model is missing from the store`, {
        hint: "pull the model again",
      });
    }
  }

  /** Small blobs (configs, templates) that arrived in memory: checked, then stored once. */
  putBlob(digest: string, bytes: Uint8Array): void {
    const actual = sha256Digest(bytes);
    if (actual !== digest)
      throw new A3sError("integrity", `digest mismatch: expected ${digest}, got ${actual}`);
    if (!this.hasBlob(digest)) writeFileAtomic(this.blobPath(digest), bytes);
  }

  /**
   * A blob arriving as a stream (POST /api/blobs): written to a temporary file while hashed, kept
   * only when the digest matches, so a truncated or wrong upload leaves nothing behind.
   */
  async putBlobStream(digest: string, body: ReadableStream<Uint8Array> | null): Promise<void> {
    const target = this.blobPath(digest);
    const temp = `${target}.upload-${process.pid}-${Date.now()}`;
    mkdirSync(dirname(target), { recursive: true });
    const hash = createHash("sha256");
    const file = Bun.file(temp).writer();
    try {
      if (body) {
        for await (const chunk of body) {
          hash.update(chunk);
          file.write(chunk);
        }
      }
      await file.end();
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual !== digest) {
        throw new A3sError("integrity", `digest mismatch: expected ${digest}, got ${actual}`);
      }
      renameSync(temp, target);
    } finally {
      rmSync(temp, { force: true });
    }
  }

  removeBlob(digest: string): void {
    rmSync(this.blobPath(digest), { force: true });
  }

  manifestPath(name: ModelName): string {
    return join(this.manifestsDir, ...manifestSegments(name));
  }

  get(name: ModelName): ModelRecord | undefined {
    const row = this.db.query("SELECT * FROM models WHERE name = ?").get(formatName(name)) as ModelRow | null;
    return row ? fromRow(row) : undefined;
  }

  /** The record for a name, or a not-found error worded like Ollama's. */
  require(name: ModelName, asTyped: string): ModelRecord {
    const record = this.get(name);
    if (!record) {
      throw new A3sError("not_found", `model '${asTyped}' not found`, {
        hint: "see 'a3s power list' for local models, or pull it: a3s power pull <model>",
      });
    }
    return record;
  }

  /** Newest first, as `ollama list` orders them. */
  list(): ModelRecord[] {
    const rows = this.db.query("SELECT * FROM models ORDER BY modified_at DESC, name").all() as ModelRow[];
    return rows.map(fromRow);
  }

  readManifest(record: ModelRecord): OllamaManifest {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(this.manifestPath(record.name));
    } catch {
      throw new A3sError(
        "integrity",
        `the manifest of ${formatName(record.name)} is missing from the store`,
        {
          hint: "pull the model again",
        },
      );
    }
    return parseOllamaManifest(bytes);
  }

  /** Writes the manifest (verbatim, so its digest is the registry's) and records the name. */
  save(name: ModelName, manifestBytes: Uint8Array, details: ModelDetails): ModelRecord {
    const manifest = parseOllamaManifest(manifestBytes);
    for (const blob of blobsOf(manifest)) {
      if (!this.hasBlob(blob.digest)) {
        throw new A3sError("integrity", `cannot record ${formatName(name)}: blob ${blob.digest} is missing`);
      }
    }
    writeFileAtomic(this.manifestPath(name), manifestBytes);
    const record: ModelRecord = {
      name,
      digest: sha256Digest(manifestBytes),
      size: manifestSize(manifest),
      blobs: blobsOf(manifest).map((blob) => blob.digest),
      details,
      modifiedAt: new Date().toISOString(),
    };
    this.db
      .query(
        `INSERT INTO models (name, digest, size, blobs, details, modified_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, size = excluded.size,
           blobs = excluded.blobs, details = excluded.details, modified_at = excluded.modified_at`,
      )
      .run(
        formatName(name),
        record.digest,
        record.size,
        JSON.stringify(record.blobs),
        JSON.stringify(details),
        record.modifiedAt,
      );
    return record;
  }

  /** `ollama cp`: the same manifest under another name; no blob is copied. */
  copy(source: ModelName, destination: ModelName, asTyped: string): ModelRecord {
    const record = this.require(source, asTyped);
    const bytes = readFileSync(this.manifestPath(record.name));
    return this.save(destination, bytes, record.details);
  }

  /**
   * Removes a name and then every blob no remaining model uses, as `ollama rm` does: a blob shared
   * with another tag stays until the last model using it is gone. Returns the digests deleted.
   */
  remove(name: ModelName, asTyped: string): string[] {
    const record = this.require(name, asTyped);
    this.db.query("DELETE FROM models WHERE name = ?").run(formatName(name));
    rmSync(this.manifestPath(name), { force: true });
    this.pruneEmptyDirs(dirname(this.manifestPath(name)));
    const inUse = new Set(this.list().flatMap((other) => other.blobs));
    const deleted: string[] = [];
    for (const digest of record.blobs) {
      if (inUse.has(digest)) continue;
      this.removeBlob(digest);
      deleted.push(digest);
    }
    return deleted;
  }

  /** Names (full form) of the models that use a blob. */
  usersOf(digest: string): string[] {
    return this.list()
      .filter((record) => record.blobs.includes(digest))
      .map((record) => formatName(record.name));
  }

  /** Removes now-empty manifest directories up to (not including) manifests/. */
  private pruneEmptyDirs(dir: string): void {
    let current = dir;
    while (current.startsWith(this.manifestsDir) && current !== this.manifestsDir) {
      try {
        if (readdirSync(current).length > 0) return;
        rmdirSync(current);
      } catch {
        return;
      }
      current = dirname(current);
    }
  }
}

function fromRow(row: ModelRow): ModelRecord {
  return {
    name: parseModelName(row.name),
    digest: row.digest,
    size: row.size,
    blobs: JSON.parse(row.blobs) as string[],
    details: JSON.parse(row.details) as ModelDetails,
    modifiedAt: row.modified_at,
  };
}
