/**
 * The content-addressed blob store: images/blobs/sha256/<hex>. A blob enters the store only after
 * its bytes hashed to its digest; downloads grow in images/ingest/<hex>.partial so an interrupted
 * pull resumes where it stopped.
 */
import { createHash, type Hash } from "node:crypto";
import {
  closeSync,
  createReadStream,
  existsSync,
  fsync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";

export function digestHex(digest: string): string {
  const [algorithm, hex] = digest.split(":");
  if (algorithm !== "sha256" || !hex || !/^[a-f0-9]{64}$/.test(hex)) {
    throw new A3sError("integrity", `unsupported or malformed digest '${digest}'`);
  }
  return hex;
}

export class BlobStore {
  constructor(
    readonly dir: string,
    readonly ingestDir: string,
  ) {}

  path(digest: string): string {
    return join(this.dir, digestHex(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  read(digest: string): Uint8Array {
    return readFileSync(this.path(digest));
  }

  /** Stores small blobs (configs, manifests) already in memory, after checking their digest. */
  putBytes(digest: string, bytes: Uint8Array): void {
    const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (actual !== digest)
      throw new A3sError("integrity", `digest mismatch: expected ${digest}, got ${actual}`);
    if (!this.has(digest)) writeFileAtomic(this.path(digest), bytes, 0o444);
  }

  partialPath(digest: string): string {
    return join(this.ingestDir, `${digestHex(digest)}.partial`);
  }

  /** Bytes already downloaded for a blob by an earlier, interrupted pull. */
  partialSize(digest: string): number {
    try {
      return statSync(this.partialPath(digest)).size;
    } catch {
      return 0;
    }
  }

  /**
   * Opens a writer that appends to the blob's partial file from `offset` (0 starts over), hashing
   * as it goes. `commit()` verifies size and digest before the blob becomes visible. With `hash:
   * false` the caller digests the bytes elsewhere (an unpack worker reading them back) and hands
   * the digest to `commit()`.
   */
  async writer(
    digest: string,
    expectedSize: number,
    offset: number,
    { hash: hashing = true }: { hash?: boolean } = {},
  ): Promise<BlobWriter> {
    mkdirSync(this.ingestDir, { recursive: true });
    mkdirSync(this.dir, { recursive: true });
    const partial = this.partialPath(digest);
    const hash = hashing ? createHash("sha256") : undefined;
    if (hash && offset > 0) await hashFile(partial, hash, offset);
    const fd = openSync(partial, offset > 0 ? "r+" : "w", 0o644);
    if (offset > 0) ftruncateSync(fd, offset);
    return new BlobWriter(this, digest, expectedSize, partial, fd, hash, offset);
  }

  /** Digests of every blob in the store. */
  list(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => /^[a-f0-9]{64}$/.test(name))
      .map((hex) => `sha256:${hex}`);
  }

  remove(digest: string): void {
    rmSync(this.path(digest), { force: true });
  }
}

async function hashFile(path: string, hash: Hash, length: number): Promise<void> {
  if (length === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 }))
    hash.update(chunk as Buffer);
}

export class BlobWriter {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly store: BlobStore,
    readonly digest: string,
    readonly expectedSize: number,
    private readonly partial: string,
    /** Written synchronously: a chunk reaches the page cache faster than a thread-pool round trip. */
    private readonly fd: number,
    private readonly hash: Hash | undefined,
    public written: number,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.written + chunk.length > this.expectedSize) {
      await this.abandon();
      throw new A3sError(
        "integrity",
        `blob ${this.digest} is larger than the ${this.expectedSize} bytes declared`,
      );
    }
    this.hash?.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      offset += writeSync(this.fd, chunk, offset, chunk.length - offset, this.written + offset);
    }
    this.written += chunk.length;
  }

  /**
   * Verifies and moves the blob into the store; on mismatch nothing is stored and the partial is gone.
   * `computed` is the digest of the bytes written, taken elsewhere; without it, they are hashed here.
   */
  async commit(computed?: string): Promise<void> {
    await this.close();
    const sized = this.written === this.expectedSize;
    const actual = sized ? (computed ?? (await this.digestWritten())) : undefined;
    if (!sized || actual !== this.digest) {
      rmSync(this.partial, { force: true });
      const detail = sized
        ? `content hashes to ${actual}`
        : `${this.written} bytes received, ${this.expectedSize} expected`;
      throw new A3sError("integrity", `blob ${this.digest} failed verification: ${detail}`, {
        hint: "the registry or a proxy served corrupt data; nothing was stored, pull again",
      });
    }
    renameSync(this.partial, this.store.path(this.digest));
  }

  private async digestWritten(): Promise<string> {
    if (this.hash) return `sha256:${this.hash.digest("hex")}`;
    const hash = createHash("sha256");
    await hashFile(this.partial, hash, this.written);
    return `sha256:${hash.digest("hex")}`;
  }

  /**
   * Keeps what was written so the next pull resumes from it. Callable early and more than once: the
   * flush to disk can then overlap whatever else the caller waits for before commit().
   */
  close(): Promise<void> {
    // The blob is renamed into the store next: its bytes must be on disk before its name is.
    this.closing ??= new Promise<void>((resolve) => fsync(this.fd, () => resolve())).then(() =>
      closeSync(this.fd),
    );
    return this.closing;
  }

  private async abandon(): Promise<void> {
    await this.close();
    rmSync(this.partial, { force: true });
  }
}
