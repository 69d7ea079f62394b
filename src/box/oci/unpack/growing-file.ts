/**
 * A layer blob read while it is still being downloaded, so that unpacking keeps pace with the
 * download instead of starting after it. The downloader owns the file: it says how many bytes are on
 * disk (`grow`), that all of the blob is (`end`), or that it gave up (`fail`). Reads go
 * through a descriptor opened before the download could rename the file into the blob store, and stop
 * at what the downloader has written, never at the end of the file as it happens to be. The reader
 * hashes the bytes as it goes, so the blob is verified without the downloader hashing it too.
 */
import { createHash, type Hash } from "node:crypto";
import { readSync } from "node:fs";
import { A3sError, fromSystemError } from "../../../core/errors.ts";
import type { LayerInput } from "./pump.ts";

export class GrowingFile implements LayerInput {
  readonly name = "being downloaded";
  private available: number;
  private position = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly hash: Hash | undefined;
  private readonly digestRead = Promise.withResolvers<string>();
  /** The blob's digest ("sha256:<hex>"), once every one of its `size` bytes has been read (if hashing). */
  readonly digest = this.digestRead.promise;

  /** `fd` is open for reading and stays open until the reader is done; `available` bytes are on disk. */
  constructor(
    readonly fd: number,
    /** The blob's final size, for progress. */
    readonly size: number,
    available = 0,
    hashing = true,
  ) {
    this.available = available;
    this.hash = hashing ? createHash("sha256") : undefined;
    if (size === 0) this.digested();
  }

  private digested(): void {
    if (this.hash) this.digestRead.resolve(`sha256:${this.hash.digest("hex")}`);
  }

  grow(available: number): void {
    if (available <= this.available) return;
    this.available = available;
    this.notify();
  }

  /** The blob is complete: all `size` bytes are written. */
  end(): void {
    this.available = this.size;
    this.ended = true;
    this.notify();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  /** Resolves once `bytes` are readable, or the blob ended shorter; the first bytes tell the compression. */
  async head(bytes: number): Promise<Uint8Array> {
    while (this.available < bytes && !this.ended) {
      if (this.failure) throw this.failure;
      await this.next();
    }
    const head = new Uint8Array(Math.min(bytes, this.available));
    readSync(this.fd, head, 0, head.length, 0);
    return head;
  }

  /** Reads the blob's next bytes into `buffer` once the downloader has written them; 0 at its end. */
  async read(buffer: Uint8Array): Promise<number> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.position < this.available) {
        const length = Math.min(buffer.length, this.available - this.position);
        let read: number;
        try {
          read = readSync(this.fd, buffer, 0, length, this.position);
        } catch (err) {
          throw fromSystemError(err, "the layer being downloaded");
        }
        if (read === 0) {
          throw new A3sError(
            "internal",
            `the layer being downloaded ends at ${this.position} bytes, but ${this.available} were written`,
          );
        }
        this.hash?.update(buffer.subarray(0, read));
        this.position += read;
        if (this.position === this.size) this.digested();
        return read;
      }
      if (this.ended) return 0;
      await this.next();
    }
  }

  private next(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
