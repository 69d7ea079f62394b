/**
 * A reader of GGUF headers (ggml docs/gguf.md, versions 2 and 3, little-endian): the metadata and
 * the tensor infos, never the weights. `readGgufFile` reads only the beginning of the file, growing
 * the window until the header fits, so a 40 GB model costs a few megabytes of I/O.
 */
import { open } from "node:fs/promises";
import { A3sError } from "../core/errors.ts";

export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  typeName: string;
  offset: number;
}

export interface GgufHeader {
  version: number;
  /** Values in file order; 64-bit integers are numbers when exact, bigints otherwise. */
  metadata: Map<string, GgufValue>;
  alignment: number;
  tensors: GgufTensorInfo[];
  /** File offset where the tensor data starts. */
  dataOffset: number;
}

const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const DEFAULT_ALIGNMENT = 32;
const MAX_ARRAY_DEPTH = 8;
const MAX_DIMS = 4;
const TYPE_NAMES = [
  ...["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array"],
  ...["uint64", "int64", "float64"],
] as const;
const FIXED_SIZE: Record<string, number> = { uint8: 1, int8: 1, bool: 1, uint16: 2, int16: 2 };
for (const name of ["uint32", "int32", "float32"]) FIXED_SIZE[name] = 4;
for (const name of ["uint64", "int64", "float64"]) FIXED_SIZE[name] = 8;

/** ggml tensor type names by id (ggml.h), for `show --verbose`. */
const GGML_TYPE_NAMES: Record<number, string> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  6: "Q5_0",
  7: "Q5_1",
  8: "Q8_0",
  9: "Q8_1",
  10: "Q2_K",
  11: "Q3_K",
  12: "Q4_K",
  13: "Q5_K",
  14: "Q6_K",
  15: "Q8_K",
  16: "IQ2_XXS",
  17: "IQ2_XS",
  18: "IQ3_XXS",
  19: "IQ1_S",
  20: "IQ4_NL",
  21: "IQ3_S",
  22: "IQ2_S",
  23: "IQ4_XS",
  24: "I8",
  25: "I16",
  26: "I32",
  27: "I64",
  28: "F64",
  29: "IQ1_M",
  30: "BF16",
  34: "TQ1_0",
  35: "TQ2_0",
  39: "MXFP4",
};

function invalid(message: string): A3sError {
  return new A3sError("integrity", `invalid GGUF file: ${message}`);
}

/** Thrown when the window read so far ends inside the header; `readGgufFile` then reads more. */
class NeedMore extends Error {}

class Reader {
  pos = 0;
  private readonly view: DataView;
  private static readonly decoder = new TextDecoder();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly complete: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws unless `n` more bytes are in the window: NeedMore, or truncated when it is the whole file. */
  ensure(n: number, what: string): void {
    if (this.pos + n <= this.bytes.length) return;
    if (!this.complete) throw new NeedMore();
    throw new A3sError("integrity", `truncated GGUF file: ${what} runs past the end of the file`);
  }

  take(n: number, what: string): number {
    this.ensure(n, what);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }

  size(what: string): number {
    const v = this.view.getBigUint64(this.take(8, what), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${what} ${v} is impossibly large`);
    return Number(v);
  }

  string(what: string): string {
    const length = this.size(`${what} length`);
    const at = this.take(length, what);
    return Reader.decoder.decode(this.bytes.subarray(at, at + length));
  }

  value(type: number, key: string, depth = 0): GgufValue {
    const name = TYPE_NAMES[type];
    const what = `value of '${key}'`;
    const v = this.view;
    switch (name) {
      case "uint8":
        return v.getUint8(this.take(1, what));
      case "int8":
        return v.getInt8(this.take(1, what));
      case "uint16":
        return v.getUint16(this.take(2, what), true);
      case "int16":
        return v.getInt16(this.take(2, what), true);
      case "uint32":
        return v.getUint32(this.take(4, what), true);
      case "int32":
        return v.getInt32(this.take(4, what), true);
      case "float32":
        return v.getFloat32(this.take(4, what), true);
      case "float64":
        return v.getFloat64(this.take(8, what), true);
      case "uint64":
        return exact(v.getBigUint64(this.take(8, what), true));
      case "int64":
        return exact(v.getBigInt64(this.take(8, what), true));
      case "bool":
        return v.getUint8(this.take(1, what)) !== 0;
      case "string":
        return this.string(what);
      case "array": {
        if (depth >= MAX_ARRAY_DEPTH) throw invalid(`'${key}' nests arrays too deeply`);
        const elementType = this.u32(`array type of '${key}'`);
        const element = TYPE_NAMES[elementType];
        if (element === undefined) throw invalid(`'${key}' has unknown array type ${elementType}`);
        const length = this.size(`array length of '${key}'`);
        // Refuse impossible lengths before allocating anything for them.
        this.ensure(length * (FIXED_SIZE[element] ?? 8), `${length} elements of '${key}'`);
        const items: GgufValue[] = [];
        for (let i = 0; i < length; i++) items.push(this.value(elementType, key, depth + 1));
        return items;
      }
      default:
        throw invalid(`'${key}' has unknown value type ${type}`);
    }
  }
}

function exact(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Parses a GGUF header from `bytes`, the file's beginning (`complete` when it is the whole file). */
export function parseGgufHeader(bytes: Uint8Array, complete = true): GgufHeader {
  const r = new Reader(bytes, complete);
  r.take(4, "the magic number");
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw invalid("bad magic (expected 'GGUF')");
  const version = r.u32("the version");
  if (version !== 2 && version !== 3) throw invalid(`unsupported GGUF version ${version}`);
  const tensorCount = r.size("the tensor count");
  const kvCount = r.size("the metadata count");
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string(`metadata key ${i}`);
    if (metadata.has(key)) throw invalid(`duplicate metadata key '${key}'`);
    metadata.set(key, r.value(r.u32(`type of '${key}'`), key));
  }
  const alignmentValue = metadata.get("general.alignment");
  const alignment = typeof alignmentValue === "number" ? alignmentValue : DEFAULT_ALIGNMENT;
  if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw invalid(`general.alignment ${alignment} is not a power of two`);
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string(`tensor name ${i}`);
    const nDims = r.u32(`dimension count of '${name}'`);
    if (nDims < 1 || nDims > MAX_DIMS) throw invalid(`tensor '${name}' has ${nDims} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(r.size(`dimension ${d} of '${name}'`));
    const type = r.u32(`type of '${name}'`);
    const offset = r.size(`offset of '${name}'`);
    tensors.push({ name, dims, type, typeName: GGML_TYPE_NAMES[type] ?? `unknown(${type})`, offset });
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  return { version, metadata, alignment, tensors, dataOffset };
}

/** Reads the header of a GGUF file on disk, reading 1 MiB first and doubling until it fits. */
export async function readGgufFile(path: string): Promise<GgufHeader> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    for (let window = Math.min(size, 1 << 20); ; window = Math.min(size, window * 4)) {
      const bytes = new Uint8Array(window);
      const { bytesRead } = await handle.read(bytes, 0, window, 0);
      try {
        return parseGgufHeader(bytes.subarray(0, bytesRead), bytesRead >= size);
      } catch (err) {
        if (!(err instanceof NeedMore)) throw err;
      }
    }
  } finally {
    await handle.close();
  }
}

/** Parameters in the model: the elements of every tensor (what Ollama reports as general.parameter_count). */
export function parameterCount(header: GgufHeader): number {
  return header.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
}

/** True when the bytes start with the GGUF magic. */
export function isGguf(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}
