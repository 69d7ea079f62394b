import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  encodeGgufHeader,
  type GgufKv,
  type GgufModelOptions,
  writeGguf,
} from "../../tests/fixtures/gguf.ts";
import { A3sError } from "../core/errors.ts";
import { alignUp, parameterCount, parseGgufHeader, readGgufFile } from "./gguf.ts";

const TINY: GgufModelOptions = {
  layers: 2,
  width: 64,
  heads: 4,
  ffn: 256,
  contextLength: 512,
  vocab: "bpe",
  seed: 1,
};

function expectRejected(bytes: Uint8Array, message: RegExp, options?: { fileSize?: number }): void {
  let error: unknown;
  try {
    parseGgufHeader(bytes, options);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(A3sError);
  expect((error as A3sError).code).toBe("integrity");
  expect((error as A3sError).message).toMatch(message);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "a3s-gguf-"));
}

describe("GGUF header reader", () => {
  const bytes = writeGguf(TINY);

  test("reads metadata with its types, and tensor infos with their sizes", () => {
    const header = parseGgufHeader(bytes);
    expect(header.version).toBe(3);
    expect(header.metadata.get("general.architecture")).toBe("llama");
    expect(header.metadata.get("llama.context_length")).toBe(512);
    expect(header.types.get("llama.context_length")).toBe("uint32");
    expect(header.types.get("tokenizer.ggml.tokens")).toBe("array<string>");
    expect(header.tensors[0]).toMatchObject({ name: "token_embd.weight", typeName: "F32", offset: 0 });
    expect(header.tensors[0]!.bytes).toBe(4 * header.tensors[0]!.dims[0]! * header.tensors[0]!.dims[1]!);
    expect(header.dataOffset % 32).toBe(0);
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
    const dir = tempDir();
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

  test("readGgufFile refuses a file whose tensor data is cut short, and absurd counts", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "cut.gguf"), bytes.subarray(0, bytes.length - 40));
    await expect(readGgufFile(join(dir, "cut.gguf"))).rejects.toThrow(/tensor 'output.weight' ends at byte/);
    // A count past the end of the file fails at once, without growing the window to the whole file.
    const absurd = new Uint8Array(3 << 20);
    absurd.set(bytes);
    absurd.set([0, 0, 0, 0, 0, 1, 0, 0], 16);
    writeFileSync(join(dir, "absurd.gguf"), absurd);
    await expect(readGgufFile(join(dir, "absurd.gguf"))).rejects.toThrow(/1099511627776 metadata entries/);
  });
});

describe("parseGgufHeader rejects corrupt files", () => {
  const bytes = writeGguf(TINY);
  const meta = parseGgufHeader(bytes);
  const patched = (at: number, values: number[]) => {
    const copy = bytes.slice();
    copy.set(values, at);
    return copy;
  };
  /** A file with one metadata entry and no tensors. */
  const single = (kv: GgufKv) => encodeGgufHeader([kv], []);

  test("bad magic and unsupported versions", () => {
    expectRejected(patched(0, [0x47, 0x47, 0x4d, 0x4c]), /bad magic 'GGML'/);
    expectRejected(new TextEncoder().encode("<html>not a model</html>"), /bad magic '<htm'/);
    expectRejected(patched(4, [1, 0, 0, 0]), /version 1 is obsolete/);
    expectRejected(patched(4, [4, 0, 0, 0]), /unsupported GGUF version 4/);
    expectRejected(patched(4, [0, 0, 0, 3]), /big-endian/);
    expect(parseGgufHeader(patched(4, [2, 0, 0, 0])).version).toBe(2);
  });

  test("truncation anywhere is reported as truncation", () => {
    const cuts = [0, 3, 4, 7, 12, 23, 30, 200, 5000, meta.dataOffset - 1];
    for (const cut of cuts) expectRejected(bytes.subarray(0, cut), /truncated GGUF file/);
    expectRejected(bytes.subarray(0, meta.dataOffset + 10), /tensor 'token_embd.weight' ends at byte/);
    expectRejected(bytes.subarray(0, bytes.length - 40), /tensor 'output.weight' ends at byte/);
    // The beginning of a file is enough when the caller knows the real size.
    const head = parseGgufHeader(bytes.subarray(0, meta.dataOffset), { fileSize: bytes.length });
    expect(head.tensors).toEqual(meta.tensors);
    expectRejected(bytes.subarray(0, meta.dataOffset), /ends at byte/, { fileSize: bytes.length - 1 });
  });

  test("absurd counts and lengths fail fast instead of allocating", () => {
    const huge = [0, 0, 0, 0, 0, 1, 0, 0]; // 2^40
    expectRejected(patched(8, huge), /truncated GGUF file: 1099511627776 tensor infos/);
    expectRejected(patched(16, huge), /truncated GGUF file: 1099511627776 metadata entries/);
    expectRejected(patched(24, huge), /metadata key 0 needs 1099511627776 bytes/);
    expectRejected(patched(16, [0, 0, 0, 0, 0, 0, 0, 0x80]), /impossibly large/);
  });

  test("malformed metadata", () => {
    const flag = single({ key: "x.flag", type: "bool", value: true });
    expect(parseGgufHeader(flag).metadata.get("x.flag")).toBe(true);
    flag[flag.length - 1] = 2;
    expectRejected(flag, /'x.flag' is a bool with the byte value 2/);

    const typed = single({ key: "x.n", type: "uint8", value: 7 });
    typed.set([99, 0, 0, 0], typed.length - 5);
    expectRejected(typed, /'x.n' has unknown value type 99/);

    const kv: GgufKv = { key: "x.same", type: "uint32", value: 1 };
    expectRejected(encodeGgufHeader([kv, kv], []), /duplicate metadata key 'x.same'/);
    expectRejected(single({ key: "", type: "uint32", value: 1 }), /metadata key 0 is empty/);
    expectRejected(single({ key: "general.alignment", type: "uint32", value: 24 }), /not a power of two/);
    expectRejected(single({ key: "general.alignment", type: "uint64", value: 32 }), /is not a uint32/);

    // Arrays of arrays are legal GGUF, but not without bound.
    const nested = [...single({ key: "x.deep", type: "uint8", value: 0 }).subarray(0, -5)];
    nested.push(9, 0, 0, 0);
    for (let i = 0; i < 10; i++) nested.push(9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0);
    expectRejected(new Uint8Array(nested), /nests arrays deeper than 8/);
  });

  test("malformed tensor infos", () => {
    const tensor = { name: "t", dims: [4], type: 0, offset: 0 };
    const withData = (header: Uint8Array) => {
      const out = new Uint8Array(alignUp(header.length, 32) + 64);
      out.set(header);
      return out;
    };
    expect(parseGgufHeader(withData(encodeGgufHeader([], [tensor]))).tensors[0]!.bytes).toBe(16);
    expectRejected(withData(encodeGgufHeader([], [tensor, tensor])), /duplicate tensor 't'/);
    expectRejected(
      withData(encodeGgufHeader([], [{ ...tensor, offset: 8 }])),
      /offset 8 is not aligned to 32/,
    );
    expectRejected(
      withData(encodeGgufHeader([], [{ ...tensor, dims: [1, 1, 1, 1, 1] }])),
      /has 5 dimensions/,
    );
    expectRejected(withData(encodeGgufHeader([], [{ ...tensor, name: "n".repeat(64) }])), /too long/);
    const unknown = parseGgufHeader(withData(encodeGgufHeader([], [{ ...tensor, type: 99 }])));
    expect(unknown.tensors[0]).toMatchObject({ typeName: "unknown(99)", bytes: undefined });
  });
});
