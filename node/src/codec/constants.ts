/** "PLUP": protolearn update. The first four bytes of every encoded update. */
export const UPDATE_MAGIC = new Uint8Array([0x50, 0x4c, 0x55, 0x50]);

/** The one format version this codec writes and reads. */
export const UPDATE_FORMAT_VERSION = 1;

/** Quantization widths the format supports. */
export const SUPPORTED_BITS = [2, 4, 8] as const;
export type QuantizationBits = (typeof SUPPORTED_BITS)[number];

/** Bytes before the tensor shapes: magic, version, bits, reserved, model id, round, chunk size, tensor count. */
export const FIXED_HEADER_BYTES = 54;

/** Most dimensions one tensor may declare. */
export const MAX_RANK = 8;

/** Most tensors one update may declare (the count is a u16). */
export const MAX_TENSORS = 0xffff;

/** Largest chunk of values that shares one scale. */
export const MAX_CHUNK_SIZE = 65_536;

/** Indices are u32, so a model may have at most this many parameters. */
export const MAX_PARAMETERS = 0xffff_ffff;

/**
 * Default quantization width.
 * @default 8
 */
export const DEFAULT_BITS: QuantizationBits = 8;

/**
 * Default number of transmitted values that share one scale.
 * @default 256
 */
export const DEFAULT_CHUNK_SIZE = 256;

/**
 * Default fraction of coordinates transmitted (top-k by magnitude).
 * @default 0.01
 */
export const DEFAULT_DENSITY = 0.01;
