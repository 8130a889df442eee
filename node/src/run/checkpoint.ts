import { ProtolearnError } from "../errors.js";
import { serializeModel } from "../model/hash.js";
import { parameterCount, type ModelSpec } from "../model/spec.js";

/**
 * A checkpoint of the global state at the start of a round: the canonical model serialization
 * (the bytes whose keccak256 is the chain's model hash, docs/training.md) followed by one flag
 * byte and, when the flag is 1, the outer momentum as float32 little-endian:
 *
 *   serializeModel(spec, θ_r) ‖ u8 hasMomentum ‖ f32le[P] momentum (if hasMomentum)
 *
 * The reader knows the model, so it knows the exact length to expect before reading anything,
 * and it rejects any other length, a foreign header, or a non-finite value.
 */
export class CheckpointError extends ProtolearnError {
  override name = "CheckpointError";
}

export function encodeCheckpoint(spec: ModelSpec, params: Float32Array, momentum: Float32Array | undefined): Uint8Array {
  const model = serializeModel(spec, params);
  const extra = momentum === undefined ? 0 : 4 * momentum.length;
  const bytes = new Uint8Array(model.length + 1 + extra);
  bytes.set(model, 0);
  bytes[model.length] = momentum === undefined ? 0 : 1;
  if (momentum !== undefined) {
    const view = new DataView(bytes.buffer, model.length + 1);
    for (let i = 0; i < momentum.length; i++) view.setFloat32(4 * i, momentum[i] as number, true);
  }
  return bytes;
}

/** Largest checkpoint of `spec`: what a fetch may be capped at. */
export function maxCheckpointBytes(spec: ModelSpec): number {
  return serializeModel(spec, new Float32Array(parameterCount(spec))).length + 1 + 4 * parameterCount(spec);
}

export function decodeCheckpoint(spec: ModelSpec, bytes: Uint8Array): { params: Float32Array; momentum: Float32Array | undefined } {
  const n = parameterCount(spec);
  const header = serializeModel(spec, new Float32Array(n));
  const headerLength = header.length - 4 * n;
  const bad = (what: string): CheckpointError =>
    new CheckpointError(`the checkpoint is not a ${spec.id} checkpoint: ${what}`, {
      code: "CHECKPOINT_INVALID",
      fix: "the announced checkpoint is unusable; the node falls back to replaying the run from its genesis model",
    });
  if (bytes.length !== header.length + 1 && bytes.length !== header.length + 1 + 4 * n) throw bad(`${bytes.length} bytes`);
  for (let i = 0; i < headerLength; i++) if (bytes[i] !== header[i]) throw bad(`header byte ${i} differs`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (offset: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = view.getFloat32(offset + 4 * i, true);
      if (!Number.isFinite(v)) throw bad(`value ${i} is ${v}`);
      out[i] = v;
    }
    return out;
  };
  const params = read(headerLength);
  const flag = bytes[header.length];
  if (flag === 0 && bytes.length === header.length + 1) return { params, momentum: undefined };
  if (flag === 1 && bytes.length === header.length + 1 + 4 * n) return { params, momentum: read(header.length + 1) };
  throw bad(`momentum flag ${flag} does not match the length`);
}
