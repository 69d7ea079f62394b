/**
 * A layer blob read while it is still being downloaded, so that unpacking keeps pace with the
 * download instead of starting after it. The downloader owns the file: it says how many bytes are on
 * disk (`grow`), that the blob is complete and verified (`end`), or that it gave up (`fail`). Reads go
 * through a descriptor opened before the download could rename the file into the blob store, and stop
 * at what the downloader has vouched for, never at the end of the file as it happens to be.
 */
import { readSync } from "node:fs";
import { Readable } from "node:stream";
import { A3sError, fromSystemError } from "../../../core/errors.ts";

const READ_CHUNK = 1 << 20;

export class GrowingFile {
  private available: number;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  /** `fd` is open for reading and stays open until the reader is done; `available` bytes are on disk. */
  constructor(
    readonly fd: number,
    /** The blob's final size, for progress. */
    readonly size: number,
    available = 0,
  ) {
    this.available = available;
  }

  grow(available: number): void {
    if (available <= this.available) return;
    this.available = available;
    this.notify();
  }

  /** The blob is complete: `size` bytes, verified against its digest. */
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

  /** The blob from its first byte, each chunk delivered once the downloader has written it. */
  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false, highWaterMark: READ_CHUNK });
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    let position = 0;
    for (;;) {
      if (this.failure) throw this.failure;
      if (position < this.available) {
        const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, this.available - position));
        let read: number;
        try {
          read = readSync(this.fd, chunk, 0, chunk.length, position);
        } catch (err) {
          throw fromSystemError(err, "the layer being downloaded");
        }
        if (read === 0) {
          throw new A3sError(
            "internal",
            `the layer being downloaded ends at ${position} bytes, but ${this.available} were written`,
          );
        }
        position += read;
        yield read === chunk.length ? chunk : chunk.subarray(0, read);
      } else if (this.ended) {
        return;
      } else {
        await this.next();
      }
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
