import type { Hex } from "viem";

import { CodecError } from "./codec-error.js";
import {
  DEFAULT_BITS,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DENSITY,
  MAX_CHUNK_SIZE,
  MAX_RANK,
  MAX_TENSORS,
  SUPPORTED_BITS,
  UPDATE_FORMAT_VERSION,
  type QuantizationBits,
} from "./constants.js";
import { dequantizeCode, quantizationLevels, quantizeValue } from "./quantize.js";
import { selectTopK, topKCount } from "./top-k.js";
import {
  headerLength,
  isModelId,
  parameterCount,
  writeUpdateBytes,
  type TensorShape,
  type UpdateHeader,
} from "./update-format.js";

/** What to encode the update for, and how hard to compress it. */
export interface EncodeUpdateOptions {
  /** The model the update is for (32 bytes of hex; see `modelIdFromName`). */
  readonly modelId: Hex;
  /** The round the update is for. */
  readonly round: number;
  /** The model's tensor shapes, in order; their sizes must add up to the gradient's length. */
  readonly shapes: readonly TensorShape[];
  /**
   * Fraction of coordinates to transmit; k = clamp(round(density · n), 1, n).
   * @default 0.01
   */
  readonly density?: number;
  /**
   * Quantization width of transmitted values.
   * @default 8
   */
  readonly bits?: QuantizationBits;
  /**
   * Transmitted values (in index order) that share one scale.
   * @default 256
   */
  readonly chunkSize?: number;
  /** Error-feedback residual returned by the previous round's encode; omitted or null on the first round. */
  readonly residual?: Float32Array | null;
}

/** Sizes and norms of one encode, for logs and benchmarks. */
export interface EncodeStats {
  readonly parameterCount: number;
  /** Values transmitted. */
  readonly k: number;
  readonly bits: QuantizationBits;
  readonly chunkSize: number;
  /** Total encoded size. */
  readonly bytes: number;
  readonly headerBytes: number;
  readonly scaleBytes: number;
  readonly indexBytes: number;
  readonly valueBytes: number;
  /** 4 · parameterCount / bytes: how much smaller than a dense float32 vector. */
  readonly compressionRatio: number;
  /** ‖gradient + residual‖₂: what the node wanted to send. */
  readonly inputNorm: number;
  /** ‖decoded update‖₂: what the receivers will see. */
  readonly transmittedNorm: number;
  /** ‖new residual‖₂: what is carried to the next round. */
  readonly residualNorm: number;
}

/** The encoded update and what the caller must keep. */
export interface EncodedUpdate {
  /** The update in the format of docs/update-format.md; its keccak256 is the content hash. */
  readonly bytes: Uint8Array;
  /**
   * What was not transmitted (unselected coordinates plus quantization error). Persist it and
   * pass it as `residual` to the next round's encode: that is error feedback.
   */
  readonly residual: Float32Array;
  readonly stats: EncodeStats;
}

/**
 * Compresses a pseudo-gradient: adds last round's residual, keeps the top-k coordinates by
 * magnitude, quantizes them with per-chunk scales and writes the binary update.
 *
 * Pure and deterministic: the same inputs give the same bytes on every machine.
 *
 * @example
 * const { bytes, residual } = encodeUpdate(delta, { modelId, round: 7, shapes, residual: saved });
 * await store.put(bytes);
 * await saveResidual(residual);
 */
export function encodeUpdate(gradient: Float32Array, options: EncodeUpdateOptions): EncodedUpdate {
  const settings = checkOptions(gradient, options);
  const { bits, chunkSize, density } = settings;
  const n = gradient.length;

  // Float32 addition, the same rounding on every machine.
  const accumulated = new Float32Array(gradient);
  if (options.residual) {
    const residual = options.residual;
    for (let i = 0; i < n; i++) accumulated[i] = accumulated[i]! + residual[i]!;
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(accumulated[i]!)) {
      throw new CodecError(`gradient + residual is ${accumulated[i]} at index ${i}`, {
        code: "CODEC_NON_FINITE_INPUT",
        fix: "the local training step diverged: lower the inner learning rate or reset the residual before encoding",
      });
    }
  }

  const k = topKCount(n, density);
  const indices = selectTopK(accumulated, k);
  const levels = quantizationLevels(bits);
  const scales = new Float32Array(Math.ceil(k / chunkSize));
  const codes = new Uint8Array(k);
  const residual = new Float32Array(accumulated);
  for (let chunk = 0; chunk < scales.length; chunk++) {
    const start = chunk * chunkSize;
    const end = Math.min(k, start + chunkSize);
    let scale = 0;
    for (let i = start; i < end; i++) scale = Math.max(scale, Math.abs(accumulated[indices[i]!]!));
    scales[chunk] = scale;
    for (let i = start; i < end; i++) {
      const index = indices[i]!;
      const code = quantizeValue(accumulated[index]!, scale, levels);
      codes[i] = code;
      residual[index] = accumulated[index]! - dequantizeCode(code, scale, levels);
    }
  }

  const header: UpdateHeader = {
    version: UPDATE_FORMAT_VERSION,
    bits,
    modelId: options.modelId.toLowerCase() as Hex,
    round: options.round,
    chunkSize,
    shapes: options.shapes.map((shape) => [...shape]),
  };
  const bytes = writeUpdateBytes({ header, scales, indices, codes });

  const headerBytes = headerLength(header) + 4;
  const scaleBytes = 4 * scales.length;
  const valueBytes = Math.ceil((k * bits) / 8);
  let transmittedSquares = 0;
  for (let chunk = 0; chunk < scales.length; chunk++) {
    const end = Math.min(k, (chunk + 1) * chunkSize);
    for (let i = chunk * chunkSize; i < end; i++)
      transmittedSquares += dequantizeCode(codes[i]!, scales[chunk]!, levels) ** 2;
  }
  return {
    bytes,
    residual,
    stats: {
      parameterCount: n,
      k,
      bits,
      chunkSize,
      bytes: bytes.length,
      headerBytes,
      scaleBytes,
      indexBytes: bytes.length - headerBytes - scaleBytes - valueBytes,
      valueBytes,
      compressionRatio: (4 * n) / bytes.length,
      inputNorm: l2(accumulated),
      transmittedNorm: Math.sqrt(transmittedSquares),
      residualNorm: l2(residual),
    },
  };
}

function l2(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

function checkOptions(
  gradient: Float32Array,
  options: EncodeUpdateOptions,
): { bits: QuantizationBits; chunkSize: number; density: number } {
  const bits = options.bits ?? DEFAULT_BITS;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const density = options.density ?? DEFAULT_DENSITY;
  const bad = (message: string, fix: string): CodecError =>
    new CodecError(message, { code: "CODEC_BAD_OPTIONS", fix });

  if (!(SUPPORTED_BITS as readonly number[]).includes(bits)) {
    throw bad(
      `bits is ${bits}`,
      `use one of ${SUPPORTED_BITS.join(", ")} (the run's compression setting)`,
    );
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw bad(
      `chunkSize is ${chunkSize}`,
      `use an integer in [1, ${MAX_CHUNK_SIZE}], e.g. ${DEFAULT_CHUNK_SIZE}`,
    );
  }
  if (!(density > 0 && density <= 1)) {
    throw bad(
      `density is ${density}`,
      "use a fraction in (0, 1], e.g. 0.01 to send 1% of the coordinates",
    );
  }
  if (!isModelId(options.modelId)) {
    throw bad(
      `modelId ${JSON.stringify(options.modelId)} is not 32 bytes of hex`,
      "pass a 0x-prefixed bytes32, e.g. modelIdFromName(name)",
    );
  }
  if (!Number.isSafeInteger(options.round) || options.round < 0) {
    throw bad(
      `round is ${options.round}`,
      "pass the on-chain round number, a non-negative integer",
    );
  }
  const shapes = options.shapes;
  if (shapes.length < 1 || shapes.length > MAX_TENSORS) {
    throw bad(
      `the model has ${shapes.length} tensors`,
      `pass between 1 and ${MAX_TENSORS} tensor shapes`,
    );
  }
  for (const [t, shape] of shapes.entries()) {
    if (
      shape.length > MAX_RANK ||
      shape.some((dim) => !Number.isInteger(dim) || dim < 1 || dim > 0xffff_ffff)
    ) {
      throw bad(
        `tensor ${t} has the shape [${shape.join(", ")}]`,
        `use at most ${MAX_RANK} positive integer dimensions per tensor`,
      );
    }
  }
  const n = parameterCount(shapes);
  if (n !== gradient.length) {
    throw bad(
      `the shapes declare ${n} parameters but the gradient has ${gradient.length}`,
      "pass the shapes of the model the gradient was computed for",
    );
  }
  if (options.residual && options.residual.length !== n) {
    throw bad(
      `the residual has ${options.residual.length} values but the gradient has ${n}`,
      "discard the stored residual (it belongs to another model) and pass null",
    );
  }
  return { bits: bits as QuantizationBits, chunkSize, density };
}
