/** Writes the tar stream of a saved archive: ustar headers, padding and file contents, into a sink. */
import { createReadStream } from "node:fs";
import type { Header } from "tar";
import { A3sError } from "../../../core/errors.ts";
import { interrupted } from "./errors.ts";
import { READ_CHUNK } from "./files.ts";
import type { Sink } from "./sinks.ts";

const BLOCK = 512;
const EPOCH = new Date(0);

/** A ustar writer for the few, short, regular names an image archive holds; mtimes are the epoch. */
/** A ustar writer for the few, short, regular names an image archive holds; mtimes are the epoch. */
export class TarWriter {
  constructor(
    private readonly sink: Sink,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async dir(path: string): Promise<void> {
    await this.sink.write(await header(path, "Directory", 0));
  }

  async file(path: string, bytes: Uint8Array): Promise<void> {
    await this.sink.write(await header(path, "File", bytes.length));
    await this.sink.write(bytes);
    await this.pad(bytes.length);
  }

  /** Streams a file of a known size; one that changed size meanwhile would corrupt the archive. */
  async copy(path: string, source: string, size: number): Promise<void> {
    await this.sink.write(await header(path, "File", size));
    let copied = 0;
    for await (const chunk of createReadStream(source, { highWaterMark: READ_CHUNK })) {
      if (this.signal?.aborted) throw interrupted();
      copied += (chunk as Buffer).length;
      if (copied > size) break;
      await this.sink.write(chunk as Buffer);
    }
    if (copied !== size) throw new A3sError("integrity", `${source} changed size while it was being saved`);
    await this.pad(size);
  }

  async end(): Promise<void> {
    await this.sink.write(new Uint8Array(BLOCK * 2));
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest > 0) await this.sink.write(new Uint8Array(BLOCK - rest));
  }
}

let HeaderClass: typeof Header | undefined;

/** A ustar header block; the tar package is loaded on first use, not at every a3s start. */
async function header(path: string, type: "File" | "Directory", size: number): Promise<Uint8Array> {
  HeaderClass ??= (await import("tar")).Header;
  const h = new HeaderClass({
    path,
    type,
    size,
    mode: type === "Directory" ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
    mtime: EPOCH,
  });
  if (h.encode() || !h.block) throw new A3sError("internal", `archive member name too long: ${path}`);
  return h.block;
}
