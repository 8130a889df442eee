import { bytesToHex, hexToBytes, isHex, type Hex } from "viem";

import { CodecError, PEER_UPDATE_FIX, type CodecErrorCode } from "./codec-error.js";
import {
  FIXED_HEADER_BYTES,
  MAX_CHUNK_SIZE,
  MAX_PARAMETERS,
  MAX_RANK,
  SUPPORTED_BITS,
  UPDATE_FORMAT_VERSION,
  UPDATE_MAGIC,
  type QuantizationBits,
} from "./constants.js";
import { readVarint, varintLength, writeVarint } from "./varint.js";

/**
 * The byte layout of an encoded update (docs/update-format.md is the specification). This
 * module only moves fields to and from bytes and enforces what the format itself requires
 * (canonical varints, strictly increasing in-range indices, valid codes, no trailing bytes).
 * Quantization lives in quantize.ts, the policy in encode-update.ts / decode-update.ts.
 */

/** Dimensions of one tensor, outermost first. A scalar has no dimensions. */
export type TensorShape = readonly number[];

/** Everything before the payload. */
export interface UpdateHeader {
  /** Format version (1). */
  readonly version: number;
  /** Quantization width of every value. */
  readonly bits: QuantizationBits;
  /** The model this update is for, as 32 bytes of hex. */
  readonly modelId: Hex;
  /** The round this update is for. */
  readonly round: number;
  /** How many consecutive transmitted values share one scale. */
  readonly chunkSize: number;
  /** Shapes of the model's tensors, in the model's order. */
  readonly shapes: readonly TensorShape[];
}

/** An update as stored: header plus the raw payload (scales, ascending indices, codes). */
export interface UpdateFields {
  readonly header: UpdateHeader;
  /** One float32 scale per `chunkSize` transmitted values. */
  readonly scales: Float32Array;
  /** Flat parameter indices, strictly increasing, each < parameter count. */
  readonly indices: Uint32Array;
  /** One unsigned code per index, in [0, 2^bits - 2]. */
  readonly codes: Uint8Array;
}

/** Number of parameters `shapes` declare. Throws CODEC_BAD_SHAPE above the format's limit. */
export function parameterCount(shapes: readonly TensorShape[]): number {
  let total = 0;
  for (const shape of shapes) {
    let size = 1;
    for (const dim of shape) {
      size *= dim;
      if (size > MAX_PARAMETERS) break;
    }
    total += size;
    if (total > MAX_PARAMETERS) {
      throw fail(
        "CODEC_BAD_SHAPE",
        `the tensor shapes declare more than ${MAX_PARAMETERS} parameters`,
      );
    }
  }
  return total;
}

/** Serializes `fields`. The caller guarantees they are consistent (encodeUpdate does). */
export function writeUpdateBytes(fields: UpdateFields): Uint8Array {
  const { header, scales, indices, codes } = fields;
  const bits = header.bits;
  let shapeBytes = 0;
  for (const shape of header.shapes) shapeBytes += 1 + 4 * shape.length;
  let indexBytes = 0;
  let previous = 0;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    indexBytes += varintLength(index - previous);
    previous = index;
  }
  const valueBytes = Math.ceil((indices.length * bits) / 8);
  const total = FIXED_HEADER_BYTES + shapeBytes + 4 + 4 * scales.length + indexBytes + valueBytes;

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(UPDATE_MAGIC, 0);
  view.setUint8(4, header.version);
  view.setUint8(5, bits);
  view.setUint16(6, 0, true);
  bytes.set(hexToBytes(header.modelId), 8);
  view.setBigUint64(40, BigInt(header.round), true);
  view.setUint32(48, header.chunkSize, true);
  view.setUint16(52, header.shapes.length, true);
  let at = FIXED_HEADER_BYTES;
  for (const shape of header.shapes) {
    view.setUint8(at++, shape.length);
    for (const dim of shape) {
      view.setUint32(at, dim, true);
      at += 4;
    }
  }
  view.setUint32(at, indices.length, true);
  at += 4;
  for (let i = 0; i < scales.length; i++) {
    view.setFloat32(at, scales[i]!, true);
    at += 4;
  }
  previous = 0;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    at = writeVarint(bytes, at, index - previous);
    previous = index;
  }
  // Codes packed least-significant bits first; `bits` divides 8, so no code spans two bytes.
  const perByte = 8 / bits;
  for (let i = 0; i < codes.length; i++) {
    bytes[at + Math.floor(i / perByte)]! |= codes[i]! << ((i % perByte) * bits);
  }
  return bytes;
}

/**
 * Parses `bytes` into fields, checking everything the format requires. Sizes declared inside
 * the bytes are compared with what is left before anything is allocated, so memory stays
 * proportional to `bytes.length`. Throws CodecError on the first problem.
 */
export function readUpdateBytes(bytes: Uint8Array): UpdateFields {
  const header = readUpdateHeader(bytes);
  return { header, ...readUpdatePayload(bytes, header) };
}

/** Parses the payload that follows `header` (as read by readUpdateHeader from the same bytes). */
export function readUpdatePayload(
  bytes: Uint8Array,
  header: UpdateHeader,
): Omit<UpdateFields, "header"> {
  return readPayload(new Reader(bytes, headerLength(header)), header);
}

/** Parses and checks only the header (magic, version, bits, reserved, round, chunk size, shapes). */
export function readUpdateHeader(bytes: Uint8Array): UpdateHeader {
  const reader = new Reader(bytes, 0);
  reader.need(FIXED_HEADER_BYTES, "the fixed header");
  for (let i = 0; i < UPDATE_MAGIC.length; i++) {
    if (bytes[i] !== UPDATE_MAGIC[i]) {
      throw fail(
        "CODEC_BAD_MAGIC",
        `the bytes do not start with the update magic "PLUP" (found 0x${bytesToHex(bytes.subarray(0, 4)).slice(2)})`,
      );
    }
  }
  reader.skip(4);
  const version = reader.u8();
  if (version !== UPDATE_FORMAT_VERSION) {
    throw fail(
      "CODEC_BAD_VERSION",
      `update format version ${version} is not supported (this node reads version ${UPDATE_FORMAT_VERSION})`,
    );
  }
  const bits = reader.u8();
  if (!isSupportedBits(bits)) {
    throw fail(
      "CODEC_BAD_BITS",
      `quantization width ${bits} is not one of ${SUPPORTED_BITS.join(", ")}`,
    );
  }
  const reserved = reader.u16();
  if (reserved !== 0)
    throw fail("CODEC_BAD_RESERVED", `the reserved header field is ${reserved}, it must be 0`);
  const modelId = bytesToHex(reader.bytes(32));
  const roundBig = reader.u64();
  if (roundBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw fail("CODEC_BAD_ROUND", `round ${roundBig} is larger than ${Number.MAX_SAFE_INTEGER}`);
  }
  const chunkSize = reader.u32();
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw fail("CODEC_BAD_CHUNK_SIZE", `chunk size ${chunkSize} is outside [1, ${MAX_CHUNK_SIZE}]`);
  }
  const tensorCount = reader.u16();
  if (tensorCount < 1) throw fail("CODEC_BAD_SHAPE", "the update declares no tensors");
  // Each tensor needs at least its rank byte: reject an impossible count before allocating.
  reader.need(tensorCount, `${tensorCount} tensor shapes`);
  const shapes: TensorShape[] = [];
  for (let t = 0; t < tensorCount; t++) {
    const rank = reader.u8();
    if (rank > MAX_RANK)
      throw fail("CODEC_BAD_SHAPE", `tensor ${t} has rank ${rank}, more than ${MAX_RANK}`);
    reader.need(4 * rank, `the dimensions of tensor ${t}`);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) {
      const dim = reader.u32();
      if (dim < 1) throw fail("CODEC_BAD_SHAPE", `tensor ${t} has a zero-sized dimension ${d}`);
      shape.push(dim);
    }
    shapes.push(shape);
  }
  parameterCount(shapes);
  return { version, bits, modelId, round: Number(roundBig), chunkSize, shapes };
}

/** Byte length of the header, shapes included. */
export function headerLength(header: UpdateHeader): number {
  let length = FIXED_HEADER_BYTES;
  for (const shape of header.shapes) length += 1 + 4 * shape.length;
  return length;
}

/** Bytes of payload a given k needs at least: k, scales, one byte per index, packed codes. */
export function minimumPayloadBytes(k: number, chunkSize: number, bits: number): number {
  return 4 + 4 * Math.ceil(k / chunkSize) + k + Math.ceil((k * bits) / 8);
}

function readPayload(reader: Reader, header: UpdateHeader): Omit<UpdateFields, "header"> {
  const n = parameterCount(header.shapes);
  const { bits, chunkSize } = header;
  const k = reader.u32();
  if (k > n)
    throw fail(
      "CODEC_K_TOO_LARGE",
      `the update transmits ${k} values but the model has only ${n} parameters`,
    );
  reader.need(minimumPayloadBytes(k, chunkSize, bits) - 4, `a payload of ${k} values`);

  const scales = new Float32Array(Math.ceil(k / chunkSize));
  for (let c = 0; c < scales.length; c++) {
    const scale = reader.f32();
    // `!(x >= 0)` also catches NaN.
    if (!(scale >= 0) || !Number.isFinite(scale)) {
      throw fail(
        "CODEC_BAD_SCALE",
        `scale ${c} is ${scale}; scales must be finite and non-negative`,
      );
    }
    scales[c] = scale;
  }

  const indices = new Uint32Array(k);
  let previous = 0;
  for (let i = 0; i < k; i++) {
    const read = readVarint(reader.source, reader.offset, reader.source.length);
    if ("failure" in read) {
      if (read.failure === "truncated")
        throw fail("CODEC_TRUNCATED", `the bytes end inside index ${i} of ${k}`);
      throw fail("CODEC_BAD_VARINT", `index delta ${i} is an ${read.failure} varint`);
    }
    reader.offset = read.next;
    const delta = read.value;
    if (i > 0 && delta === 0) {
      throw fail(
        "CODEC_INDEX_NOT_INCREASING",
        `index ${i} repeats index ${previous}; indices must be strictly increasing`,
      );
    }
    const index = previous + delta;
    if (index >= n) {
      throw fail(
        "CODEC_INDEX_OUT_OF_RANGE",
        `index ${i} is ${index}, beyond the model's ${n} parameters`,
      );
    }
    indices[i] = index;
    previous = index;
  }

  const valueBytes = Math.ceil((k * bits) / 8);
  const packed = reader.bytes(valueBytes);
  const codes = new Uint8Array(k);
  const perByte = 8 / bits;
  const codeMask = (1 << bits) - 1;
  for (let i = 0; i < k; i++) {
    const code = (packed[Math.floor(i / perByte)]! >>> ((i % perByte) * bits)) & codeMask;
    if (code === codeMask) {
      throw fail(
        "CODEC_BAD_VALUE",
        `value ${i} has the code ${code}, which no ${bits}-bit value uses`,
      );
    }
    codes[i] = code;
  }
  const usedBits = k * bits;
  if (usedBits % 8 !== 0 && packed[valueBytes - 1]! >>> (usedBits % 8) !== 0) {
    throw fail("CODEC_BAD_PADDING", "the unused bits after the last value are not zero");
  }
  if (reader.offset !== reader.source.length) {
    throw fail(
      "CODEC_TRAILING_BYTES",
      `${reader.source.length - reader.offset} bytes follow the end of the update (${reader.offset} bytes)`,
    );
  }
  return { scales, indices, codes };
}

function isSupportedBits(bits: number): bits is QuantizationBits {
  return (SUPPORTED_BITS as readonly number[]).includes(bits);
}

/** Checks a model id given by a caller. */
export function isModelId(value: string): value is Hex {
  return isHex(value, { strict: true }) && value.length === 66;
}

function fail(code: CodecErrorCode, message: string): CodecError {
  return new CodecError(message, { code, fix: PEER_UPDATE_FIX });
}

/** Little-endian cursor that throws CODEC_TRUNCATED instead of reading past the end. */
class Reader {
  readonly source: Uint8Array;
  offset: number;
  private readonly view: DataView;

  constructor(source: Uint8Array, offset: number) {
    this.source = source;
    this.offset = offset;
    this.view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  }

  need(count: number, what: string): void {
    const left = this.source.length - this.offset;
    if (count > left) {
      throw fail(
        "CODEC_TRUNCATED",
        `${what} needs ${count} bytes at offset ${this.offset} but only ${left} remain`,
      );
    }
  }

  skip(count: number): void {
    this.need(count, `${count} bytes`);
    this.offset += count;
  }

  u8(): number {
    this.need(1, "a u8");
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2, "a u16");
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4, "a u32");
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(): bigint {
    this.need(8, "a u64");
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  f32(): number {
    this.need(4, "a float32");
    const value = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return value;
  }

  bytes(count: number): Uint8Array {
    this.need(count, `${count} bytes`);
    const slice = this.source.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }
}
