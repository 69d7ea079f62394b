/**
 * Unpacking while a layer downloads: the growing file a worker follows, and the worker pool itself
 * (real worker threads running the same unpackLayer as the main thread).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sErrorAsync } from "../../../../tests/expect-error.ts";
import {
  compress,
  dir,
  file,
  symlink,
  type TarEntry,
  tarArchive,
} from "../../../../tests/fixtures/tar-builder.ts";
import { A3sError } from "../../../core/errors.ts";
import { type LayerCompression, unpackLayer } from "../unpack.ts";
import { GrowingFile } from "./growing-file.ts";
import { defaultWorkerCount, UnpackWorkers } from "./workers.ts";

const scratch = mkdtempSync(join(tmpdir(), "a3s-unpack-workers-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

function fresh(): string {
  const path = join(scratch, `case-${++counter}`);
  mkdirSync(path, { recursive: true });
  return path;
}

const ENTRIES: TarEntry[] = [
  dir("etc/"),
  file("etc/hostname", "box\n"),
  symlink("etc/alias", "hostname"),
  dir("data/"),
  file(
    "data/big.bin",
    new Uint8Array(3 << 20).map((_, i) => (i * 7919) % 251),
  ),
];

function layerBytes(compression: LayerCompression, entries = ENTRIES): Uint8Array {
  return compress(tarArchive(entries), compression);
}

/** A download simulated by hand: bytes appended to a file, the follower told after each write. */
function download(bytes: Uint8Array) {
  const path = join(fresh(), "blob.partial");
  const writer = openSync(path, "w");
  const reader = openSync(path, "r");
  let written = 0;
  return {
    reader,
    written: () => written,
    append(n: number): number {
      const end = Math.min(bytes.length, written + n);
      writeSync(writer, bytes, written, end - written, written);
      written = end;
      return written;
    },
    close() {
      closeSync(writer);
      closeSync(reader);
    },
  };
}

async function collect(file: GrowingFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const buffer = Buffer.alloc(64 * 1024);
    const n = await file.read(buffer);
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(buffer.subarray(0, n));
  }
}

describe("GrowingFile", () => {
  test("delivers what the downloader vouched for, waits for more, and ends when told", async () => {
    const bytes = layerBytes("gzip");
    const dl = download(bytes);
    // Bytes beyond what the follower was told about must not be read, even though they are on disk.
    dl.append(1000);
    const growing = new GrowingFile(dl.reader, bytes.length, 0);
    growing.grow(500);
    const first = Buffer.alloc(4096);
    expect(await growing.read(first)).toBe(500);
    const rest = collect(growing).then((tail) => Buffer.concat([first.subarray(0, 500), tail]));
    for (let i = 0; dl.written() < bytes.length; i++) {
      growing.grow(dl.append(64 * 1024 + i));
      if (i % 8 === 0) await Bun.sleep(0);
    }
    growing.end();
    expect((await rest).equals(Buffer.from(bytes))).toBe(true);
    dl.close();
  });

  test("head waits for the first bytes; a failure reaches a waiting reader", async () => {
    const bytes = layerBytes("zstd");
    const dl = download(bytes);
    const growing = new GrowingFile(dl.reader, bytes.length, 0);
    const head = growing.head(4);
    growing.grow(dl.append(2));
    await Bun.sleep(5);
    growing.grow(dl.append(10));
    expect([...(await head)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);

    const read = collect(growing);
    await Bun.sleep(5);
    growing.fail(new A3sError("network", "connection reset"));
    await expectA3sErrorAsync(read, "network", /connection reset/);
    dl.close();
  });

  test("unpacking a layer as it downloads gives the layer and diff ID of unpacking the finished file", async () => {
    for (const compression of ["gzip", "zstd", "none"] as const) {
      const bytes = layerBytes(compression);
      const dl = download(bytes);
      const growing = new GrowingFile(dl.reader, bytes.length, 0);
      const following = unpackLayer(growing, fresh(), { whiteouts: "overlay" });
      while (dl.written() < bytes.length) {
        growing.grow(dl.append(200 * 1024));
        await Bun.sleep(0);
      }
      growing.end();
      const result = await following;
      const blob = join(fresh(), "blob");
      await Bun.write(blob, bytes);
      const whole = await unpackLayer(blob, fresh(), { whiteouts: "overlay" });
      expect(result).toEqual(whole);
      dl.close();
    }
  });
});

describe("defaultWorkerCount", () => {
  test("leaves the receiving thread a core while downloading, and keeps one worker at least", () => {
    const cores = availableParallelism();
    expect(defaultWorkerCount()).toBe(Math.min(4, cores));
    expect(defaultWorkerCount(true)).toBe(Math.max(1, Math.min(4, cores - 1)));
  });
});

describe("UnpackWorkers", () => {
  test("a worker unpacks a blob file and a download in progress, as the main thread would", async () => {
    const workers = new UnpackWorkers(2);
    try {
      const bytes = layerBytes("gzip");
      const blob = join(fresh(), "blob");
      await Bun.write(blob, bytes);
      const expected = await unpackLayer(blob, fresh());

      const target = fresh();
      const fromFile = await workers.unpack({ path: blob }, target).done;
      expect(fromFile).toEqual(expected);
      expect(readFileSync(join(target, "etc/hostname"), "utf8")).toBe("box\n");

      const dl = download(bytes);
      const progress: number[] = [];
      const source = { fd: dl.reader, size: bytes.length, available: 0, digest: true };
      const job = workers.unpack(source, fresh(), { onProgress: (current) => progress.push(current) });
      while (dl.written() < bytes.length) {
        job.grow(dl.append(256 * 1024));
        await Bun.sleep(1);
      }
      job.end();
      // The worker digests the download as it reads it back.
      expect(await job.digest).toBe(`sha256:${createHash("sha256").update(bytes).digest("hex")}`);
      expect(await job.done).toEqual(expected);
      expect(progress.at(-1)).toBe(bytes.length);
      const undigested = workers.unpack({ path: blob }, fresh());
      expect(await undigested.digest).toBeUndefined();
      dl.close();
    } finally {
      await workers.close();
    }
  });

  test("a hostile layer is an integrity error with its message and hint; nothing escapes", async () => {
    const workers = new UnpackWorkers(1);
    try {
      const base = fresh();
      const target = join(base, "a", "root");
      mkdirSync(target, { recursive: true });
      const blob = join(base, "hostile.tar");
      await Bun.write(blob, tarArchive([file("fine", "ok"), file("../../escape", "pwned")]));
      const err = await expectA3sErrorAsync(
        workers.unpack({ path: blob }, target).done,
        "integrity",
        /escape/,
      );
      expect(err.hint).toContain("unsafe layer");
      expect(readdirSync(base).sort()).toEqual(["a", "hostile.tar"]);
    } finally {
      await workers.close();
    }
  });

  test("an aborted download stops its unpack; closing the pool rejects what still runs", async () => {
    const workers = new UnpackWorkers(1);
    const bytes = layerBytes("gzip");
    const dl = download(bytes);
    const job = workers.unpack({ fd: dl.reader, size: bytes.length, available: 0, digest: true }, fresh());
    job.grow(dl.append(100_000));
    await Bun.sleep(10);
    job.abort();
    await expectA3sErrorAsync(job.done, "interrupted");

    const source = { fd: dl.reader, size: bytes.length, available: 0, digest: false };
    const waiting = workers.unpack(source, fresh());
    await workers.close();
    await expectA3sErrorAsync(waiting.done, "interrupted");
    expect(() => workers.unpack({ path: "/nonexistent" }, fresh())).toThrow(/closed/);
    dl.close();
  });
});
