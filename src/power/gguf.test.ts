import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GgufModelOptions, readGgufMetadata, writeGguf } from "../../tests/fixtures/gguf.ts";
import { A3sError } from "../core/errors.ts";
import { parameterCount, parseGgufHeader, readGgufFile } from "./gguf.ts";

const TINY: GgufModelOptions = {
  layers: 2,
  width: 64,
  heads: 4,
  ffn: 256,
  contextLength: 512,
  vocab: "bpe",
  seed: 1,
};

describe("GGUF header reader", () => {
  const bytes = writeGguf(TINY);

  test("agrees with the fixture's reader on metadata and tensors", () => {
    const ours = parseGgufHeader(bytes);
    const theirs = readGgufMetadata(bytes);
    expect(ours.version).toBe(3);
    expect([...ours.metadata.keys()]).toEqual([...theirs.metadata.keys()]);
    expect(ours.metadata.get("general.architecture")).toBe("llama");
    expect(ours.metadata.get("llama.context_length")).toBe(512);
    expect(ours.tensors.map((t) => [t.name, t.dims, t.typeName])).toEqual(
      theirs.tensors.map((t) => [t.name, t.dims, t.typeName]),
    );
    expect(ours.dataOffset).toBe(theirs.dataOffset);
  });

  test("counts parameters from the tensor shapes", () => {
    const header = parseGgufHeader(bytes);
    const vocab = (header.metadata.get("tokenizer.ggml.tokens") as string[]).length;
    const perLayer = 64 + 4 * 64 * 64 + 64 + 3 * 64 * 256;
    expect(parameterCount(header)).toBe(2 * 64 * vocab + 2 * perLayer + 64);
  });

  test("reads a file through a growing window", async () => {
    // A header bigger than the first 1 MiB window: one 3 MiB string value, written by hand.
    const encode = (text: string) => new TextEncoder().encode(text);
    const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
    const u64 = (v: number) => new Uint8Array(new BigUint64Array([BigInt(v)]).buffer);
    const str = (text: string) => [u64(encode(text).length), encode(text)];
    const big = "x".repeat(3 << 20);
    const parts = [encode("GGUF"), u32(3), u64(0), u64(2)];
    parts.push(...str("general.architecture"), u32(8), ...str("llama"));
    parts.push(...str("general.description"), u32(8), ...str(big));
    const dir = mkdtempSync(join(tmpdir(), "a3s-gguf-"));
    writeFileSync(join(dir, "big.gguf"), Buffer.concat(parts));
    const header = await readGgufFile(join(dir, "big.gguf"));
    expect(header.dataOffset).toBeGreaterThan(3 << 20);
    expect(header.metadata.get("general.description")).toBe(big);
    expect(header.tensors).toEqual([]);
  });

  test("refuses what is not GGUF, and truncated headers", () => {
    expect(() => parseGgufHeader(new TextEncoder().encode("not a model at all"))).toThrow(/bad magic/);
    expect(() => parseGgufHeader(bytes.subarray(0, 100))).toThrow(A3sError);
    expect(() => parseGgufHeader(bytes.subarray(0, 100))).toThrow(/truncated/);
  });
});
