import type { Hex } from "viem";

import { CodecError, PEER_UPDATE_FIX, type CodecErrorCode } from "./codec-error.js";
import type { QuantizationBits } from "./constants.js";
import { dequantizeCode, quantizationLevels } from "./quantize.js";
import { topKCount } from "./top-k.js";
import {
  isModelId,
  parameterCount,
  readUpdateHeader,
  readUpdatePayload,
  type TensorShape,
  type UpdateHeader,
} from "./update-format.js";

/** What the receiver expects; anything else is rejected. */
export interface DecodeExpectation {
  /** The model of the run (32 bytes of hex). */
  readonly modelId: Hex;
  /** The model's tensor shapes, in order. */
  readonly shapes: readonly TensorShape[];
  /** Largest update accepted, in bytes (the run's size cap). */
  readonly maxBytes: number;
  /** The round the update must be for; omitted to accept any round (e.g. in an audit). */
  readonly round?: number;
  /** The run's compression settings; each one given is enforced. */
  readonly params?: {
    readonly bits?: QuantizationBits;
    readonly chunkSize?: number;
    /** The update may transmit at most clamp(round(maxDensity · n), 1, n) values. */
    readonly maxDensity?: number;
  };
}

/** A decoded update in sparse form. */
export interface DecodedUpdate {
  readonly header: UpdateHeader;
  /** Number of model parameters (the length of the dense vector). */
  readonly parameterCount: number;
  /** Transmitted coordinates, strictly increasing. */
  readonly indices: Uint32Array;
  /** Their dequantized values, all finite. */
  readonly values: Float32Array;
}

/**
 * Decodes and checks an update received from a peer. Rejects with a CodecError that names the
 * first problem: size over the cap, wrong magic or version, another model, round or shapes,
 * settings other than the run's, k above the parameter count, bad scales, non-canonical or
 * non-increasing or out-of-range indices, invalid codes, truncated data, trailing bytes.
 *
 * Work and memory are bounded by `bytes.length` (itself ≤ `maxBytes`) plus the sparse output;
 * call `toDense` for the dense vector.
 *
 * @example
 * const update = decodeUpdate(bytes, { modelId, shapes, maxBytes: 4 << 20, round });
 * const delta = toDense(update);
 */
export function decodeUpdate(bytes: Uint8Array, expected: DecodeExpectation): DecodedUpdate {
  checkExpectation(expected);
  if (bytes.length > expected.maxBytes) {
    throw fail(
      "CODEC_TOO_LARGE",
      `the update is ${bytes.length} bytes, over the cap of ${expected.maxBytes}`,
    );
  }
  const header = readUpdateHeader(bytes);
  if (header.modelId !== expected.modelId.toLowerCase()) {
    throw fail(
      "CODEC_MODEL_MISMATCH",
      `the update is for model ${header.modelId}, not ${expected.modelId.toLowerCase()}`,
    );
  }
  if (expected.round !== undefined && header.round !== expected.round) {
    throw fail(
      "CODEC_ROUND_MISMATCH",
      `the update is for round ${header.round}, not ${expected.round}`,
    );
  }
  checkShapes(header.shapes, expected.shapes);
  const n = parameterCount(expected.shapes);
  const params = expected.params;
  if (params?.bits !== undefined && header.bits !== params.bits) {
    throw fail(
      "CODEC_PARAMS_MISMATCH",
      `the update uses ${header.bits}-bit values, the run requires ${params.bits}`,
    );
  }
  if (params?.chunkSize !== undefined && header.chunkSize !== params.chunkSize) {
    throw fail(
      "CODEC_PARAMS_MISMATCH",
      `the update uses chunks of ${header.chunkSize}, the run requires ${params.chunkSize}`,
    );
  }

  const { scales, indices, codes } = readUpdatePayload(bytes, header);
  if (params?.maxDensity !== undefined && indices.length > topKCount(n, params.maxDensity)) {
    throw fail(
      "CODEC_PARAMS_MISMATCH",
      `the update transmits ${indices.length} values, the run allows ${topKCount(n, params.maxDensity)} (density ${params.maxDensity})`,
    );
  }
  const levels = quantizationLevels(header.bits);
  const values = new Float32Array(indices.length);
  for (let i = 0; i < values.length; i++) {
    values[i] = dequantizeCode(codes[i]!, scales[Math.floor(i / header.chunkSize)]!, levels);
  }
  return { header, parameterCount: n, indices, values };
}

/** The dense pseudo-gradient of a decoded update (zeros where nothing was transmitted). */
export function toDense(update: DecodedUpdate): Float32Array {
  const dense = new Float32Array(update.parameterCount);
  const { indices, values } = update;
  for (let i = 0; i < indices.length; i++) dense[indices[i]!] = values[i]!;
  return dense;
}

function checkShapes(actual: readonly TensorShape[], expected: readonly TensorShape[]): void {
  if (actual.length !== expected.length) {
    throw fail(
      "CODEC_SHAPE_MISMATCH",
      `the update has ${actual.length} tensors, the model has ${expected.length}`,
    );
  }
  for (let t = 0; t < expected.length; t++) {
    const a = actual[t]!;
    const e = expected[t]!;
    if (a.length !== e.length || a.some((dim, d) => dim !== e[d])) {
      throw fail(
        "CODEC_SHAPE_MISMATCH",
        `tensor ${t} has shape [${a.join(", ")}], the model's is [${e.join(", ")}]`,
      );
    }
  }
}

function checkExpectation(expected: DecodeExpectation): void {
  const bad = (message: string): CodecError =>
    new CodecError(message, {
      code: "CODEC_BAD_OPTIONS",
      fix: "pass the run's model id, model shapes and size cap to decodeUpdate",
    });
  if (!Number.isSafeInteger(expected.maxBytes) || expected.maxBytes < 1)
    throw bad(`maxBytes is ${expected.maxBytes}`);
  if (!isModelId(expected.modelId))
    throw bad(`modelId ${JSON.stringify(expected.modelId)} is not 32 bytes of hex`);
  if (expected.shapes.length < 1) throw bad("the expected model has no tensors");
  if (
    expected.round !== undefined &&
    (!Number.isSafeInteger(expected.round) || expected.round < 0)
  ) {
    throw bad(`round is ${expected.round}`);
  }
}

function fail(code: CodecErrorCode, message: string): CodecError {
  return new CodecError(message, { code, fix: PEER_UPDATE_FIX });
}
