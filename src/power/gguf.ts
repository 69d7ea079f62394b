/**
 * A reader of GGUF headers (ggml docs/gguf.md, versions 2 and 3, little-endian): the metadata and
 * the tensor infos, never the weights. `readGgufFile` reads only the beginning of the file, growing
 * the window until the header fits, so a 40 GB model costs a few megabytes of I/O. Corrupt and
 * truncated files are refused with an integrity A3sError, before allocating for absurd counts.
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
  /** Offset from the start of the tensor data, a multiple of the alignment. */
  offset: number;
  /** Size of the tensor's data; undefined for tensor types this reader does not know. */
  bytes: number | undefined;
}

export interface GgufHeader {
  version: number;
  /** Values in file order; 64-bit integers are numbers when exact, bigints otherwise. */
  metadata: Map<string, GgufValue>;
  /** "uint32", "string", "array<float32>", … per key. */
  types: Map<string, string>;
  alignment: number;
  tensors: GgufTensorInfo[];
  /** File offset where the tensor data starts. */
  dataOffset: number;
}

export interface ParseGgufOptions {
  /** Size of the whole file when `bytes` is only its beginning; default `bytes.length`. */
  fileSize?: number;
}

const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
export const GGUF_DEFAULT_ALIGNMENT = 32;
const MAX_ARRAY_DEPTH = 8;
const MAX_DIMS = 4;
/** ggml's GGML_MAX_NAME (64) less the terminating NUL, in bytes. */
const MAX_TENSOR_NAME = 63;

/** Metadata value types, indexed by their id (gguf_metadata_value_type). */
export const GGUF_TYPE_NAMES = [
  ...["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array"],
  ...["uint64", "int64", "float64"],
] as const;
export type GgufTypeName = (typeof GGUF_TYPE_NAMES)[number];
/** Encoded size of the fixed-size value types; strings and arrays are variable. */
export const GGUF_FIXED_SIZE: Partial<Record<GgufTypeName, number>> = {
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/** ggml tensor types by id: name, elements per block, bytes per block (ggml-common.h). */
const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ["F32", 1, 4],
  1: ["F16", 1, 2],
  2: ["Q4_0", 32, 18],
  3: ["Q4_1", 32, 20],
  6: ["Q5_0", 32, 22],
  7: ["Q5_1", 32, 24],
  8: ["Q8_0", 32, 34],
  9: ["Q8_1", 32, 36],
  10: ["Q2_K", 256, 84],
  11: ["Q3_K", 256, 110],
  12: ["Q4_K", 256, 144],
  13: ["Q5_K", 256, 176],
  14: ["Q6_K", 256, 210],
  15: ["Q8_K", 256, 292],
  16: ["IQ2_XXS", 256, 66],
  17: ["IQ2_XS", 256, 74],
  18: ["IQ3_XXS", 256, 98],
  19: ["IQ1_S", 256, 50],
  20: ["IQ4_NL", 32, 18],
  21: ["IQ3_S", 256, 110],
  22: ["IQ2_S", 256, 82],
  23: ["IQ4_XS", 256, 136],
  24: ["I8", 1, 1],
  25: ["I16", 1, 2],
  26: ["I32", 1, 4],
  27: ["I64", 1, 8],
  28: ["F64", 1, 8],
  29: ["IQ1_M", 256, 56],
  30: ["BF16", 1, 2],
  34: ["TQ1_0", 256, 54],
  35: ["TQ2_0", 256, 66],
  39: ["MXFP4", 32, 17],
  40: ["NVFP4", 64, 36],
  41: ["Q1_0", 128, 18],
  42: ["Q2_0", 64, 18],
};

/** Bytes of a tensor of `type` with `elements` elements; undefined for unknown types or partial blocks. */
export function ggmlTensorBytes(type: number, elements: number): number | undefined {
  const info = GGML_TYPES[type];
  if (info === undefined || elements % info[1] !== 0) return undefined;
  return (elements / info[1]) * info[2];
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

function invalid(message: string): A3sError {
  return new A3sError("integrity", `invalid GGUF file: ${message}`);
}

function truncated(message: string): A3sError {
  return new A3sError("integrity", `truncated GGUF file: ${message}`);
}

/** Thrown when the window read so far ends inside the header; `readGgufFile` then reads more. */
class NeedMore extends Error {}

class Reader {
  pos = 0;
  private readonly view: DataView;
  private static readonly decoder = new TextDecoder();

  /** `limit` is where the data ends: the file's size when `bytes` is a window `readGgufFile` can grow. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly limit: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws truncated unless `n` more bytes can exist: a cheap check before reading (or allocating) for them. */
  bound(n: number, what: string): void {
    if (this.pos + n > this.limit) {
      const remaining = this.limit - this.pos;
      throw truncated(`${what} needs ${n} bytes at offset ${this.pos}, but only ${remaining} remain`);
    }
  }

  /** Throws unless `n` more bytes are in the window: truncated, or NeedMore when the file has them. */
  take(n: number, what: string): number {
    if (this.pos + n > this.bytes.length) {
      this.bound(n, what);
      throw new NeedMore();
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }

  /** A count or length: must fit in a double exactly. */
  size(what: string): number {
    const v = this.view.getBigUint64(this.take(8, what), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${what} ${v} is impossibly large`);
    return Number(v);
  }

  /** A string and its length in bytes. */
  string(what: string): [string, number] {
    const length = this.size(`${what} length`);
    const at = this.take(length, what);
    return [Reader.decoder.decode(this.bytes.subarray(at, at + length)), length];
  }

  /** A value and its type name ("uint32", "array<string>", …). */
  value(type: number, key: string, depth = 0): [GgufValue, string] {
    const name = GGUF_TYPE_NAMES[type];
    const what = `value of '${key}'`;
    const v = this.view;
    switch (name) {
      case "uint8":
        return [v.getUint8(this.take(1, what)), name];
      case "int8":
        return [v.getInt8(this.take(1, what)), name];
      case "uint16":
        return [v.getUint16(this.take(2, what), true), name];
      case "int16":
        return [v.getInt16(this.take(2, what), true), name];
      case "uint32":
        return [v.getUint32(this.take(4, what), true), name];
      case "int32":
        return [v.getInt32(this.take(4, what), true), name];
      case "float32":
        return [v.getFloat32(this.take(4, what), true), name];
      case "float64":
        return [v.getFloat64(this.take(8, what), true), name];
      case "uint64":
        return [exact(v.getBigUint64(this.take(8, what), true)), name];
      case "int64":
        return [exact(v.getBigInt64(this.take(8, what), true)), name];
      case "bool": {
        const b = v.getUint8(this.take(1, what));
        if (b > 1) throw invalid(`'${key}' is a bool with the byte value ${b}`);
        return [b === 1, name];
      }
      case "string":
        return [this.string(what)[0], name];
      case "array":
        return this.array(key, depth);
      default:
        throw invalid(`'${key}' has unknown value type ${type}`);
    }
  }

  private array(key: string, depth: number): [GgufValue[], string] {
    if (depth >= MAX_ARRAY_DEPTH) throw invalid(`'${key}' nests arrays deeper than ${MAX_ARRAY_DEPTH}`);
    const elementType = this.u32(`array type of '${key}'`);
    const element = GGUF_TYPE_NAMES[elementType];
    if (element === undefined) throw invalid(`'${key}' has unknown array type ${elementType}`);
    const length = this.size(`array length of '${key}'`);
    // Refuse impossible lengths before allocating anything for them.
    this.bound(length * (GGUF_FIXED_SIZE[element] ?? 8), `${length} array elements of '${key}'`);
    const items: GgufValue[] = [];
    let elementName: string = element;
    for (let i = 0; i < length; i++) {
      const [item, itemName] = this.value(elementType, key, depth + 1);
      items.push(item);
      elementName = itemName;
    }
    return [items, `array<${elementName}>`];
  }
}

function exact(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readVersion(r: Reader, bytes: Uint8Array): number {
  r.take(4, "the magic number");
  if (!isGguf(bytes)) {
    const magic = [...bytes.subarray(0, 4)];
    const shown = magic.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    throw invalid(`bad magic '${shown}' (expected 'GGUF')`);
  }
  const version = r.u32("the version");
  if (version === 2 || version === 3) return version;
  const swapped = new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, false);
  if (swapped === 2 || swapped === 3) throw invalid("big-endian GGUF files are not supported");
  if (version === 1) throw invalid("GGUF version 1 is obsolete (only versions 2 and 3 are supported)");
  throw invalid(`unsupported GGUF version ${version} (only versions 2 and 3 are supported)`);
}

function readAlignment(metadata: Map<string, GgufValue>, types: Map<string, string>): number {
  if (!metadata.has("general.alignment")) return GGUF_DEFAULT_ALIGNMENT;
  if (types.get("general.alignment") !== "uint32") throw invalid("general.alignment is not a uint32");
  const alignment = metadata.get("general.alignment") as number;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    throw invalid(`general.alignment ${alignment} is not a power of two`);
  }
  return alignment;
}

function readTensorInfo(r: Reader, i: number, alignment: number): GgufTensorInfo {
  const [name, nameBytes] = r.string(`tensor name ${i}`);
  if (nameBytes > MAX_TENSOR_NAME) throw invalid(`tensor name '${name.slice(0, 80)}…' is too long`);
  const nDims = r.u32(`dimension count of '${name}'`);
  if (nDims < 1 || nDims > MAX_DIMS) throw invalid(`tensor '${name}' has ${nDims} dimensions`);
  const dims: number[] = [];
  for (let d = 0; d < nDims; d++) dims.push(r.size(`dimension ${d} of '${name}'`));
  const type = r.u32(`type of '${name}'`);
  const offset = r.size(`offset of '${name}'`);
  if (offset % alignment !== 0) {
    throw invalid(`tensor '${name}' offset ${offset} is not aligned to ${alignment}`);
  }
  const typeName = GGML_TYPES[type]?.[0] ?? `unknown(${type})`;
  const elements = dims.reduce((a, b) => a * b, 1);
  return { name, dims, type, typeName, offset, bytes: ggmlTensorBytes(type, elements) };
}

/** Parses `bytes`, the beginning of a file of `fileSize` bytes; throws NeedMore when `window` and it is too short. */
function parse(bytes: Uint8Array, fileSize: number, window: boolean): GgufHeader {
  const r = new Reader(bytes, window ? fileSize : bytes.length);
  const version = readVersion(r, bytes);
  const tensorCount = r.size("the tensor count");
  const kvCount = r.size("the metadata count");
  // Entries take at least 13 (metadata) and 24 (tensor info) bytes: bigger counts cannot be real.
  r.bound(kvCount * 13, `${kvCount} metadata entries`);

  const metadata = new Map<string, GgufValue>();
  const types = new Map<string, string>();
  for (let i = 0; i < kvCount; i++) {
    const [key] = r.string(`metadata key ${i}`);
    if (key.length === 0) throw invalid(`metadata key ${i} is empty`);
    if (metadata.has(key)) throw invalid(`duplicate metadata key '${key}'`);
    const [value, typeName] = r.value(r.u32(`type of '${key}'`), key);
    metadata.set(key, value);
    types.set(key, typeName);
  }
  const alignment = readAlignment(metadata, types);

  r.bound(tensorCount * 24, `${tensorCount} tensor infos`);
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const tensor = readTensorInfo(r, i, alignment);
    if (names.has(tensor.name)) throw invalid(`duplicate tensor '${tensor.name}'`);
    names.add(tensor.name);
    tensors.push(tensor);
  }

  const dataOffset = alignUp(r.pos, alignment);
  for (const t of tensors) {
    const end = dataOffset + t.offset + (t.bytes ?? 0);
    if (end > fileSize) {
      throw truncated(`tensor '${t.name}' ends at byte ${end}, but the file has only ${fileSize} bytes`);
    }
  }
  return { version, metadata, types, alignment, tensors, dataOffset };
}

/**
 * Parses the header, metadata and tensor infos of a GGUF file. `bytes` is the whole file, or its
 * beginning with `fileSize` given; either way the header must be in `bytes` and the tensor data must
 * fit in the file.
 */
export function parseGgufHeader(bytes: Uint8Array, options: ParseGgufOptions = {}): GgufHeader {
  return parse(bytes, options.fileSize ?? bytes.length, false);
}

/** Reads the header of a GGUF file on disk, reading 1 MiB first and growing the window until it fits. */
export async function readGgufFile(path: string): Promise<GgufHeader> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    for (let window = Math.min(size, 1 << 20); ; window = Math.min(size, window * 4)) {
      const bytes = new Uint8Array(window);
      const { bytesRead } = await handle.read(bytes, 0, window, 0);
      // A short read means the file shrank since stat: what was read is then the whole file.
      const whole = bytesRead >= size || bytesRead < window;
      try {
        return parse(bytes.subarray(0, bytesRead), whole ? bytesRead : size, !whole);
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
