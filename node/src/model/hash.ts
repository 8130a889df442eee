import type { Hex } from "viem";
import { keccak256Bytes } from "../hashing/keccak.js";

import { ProtolearnError } from "../errors.js";
import { assertParameterLength, type ModelSpec } from "./spec.js";

/** First bytes of a serialized model: ASCII `PLMODEL` and format version 1. */
export const MODEL_MAGIC = new Uint8Array([0x50, 0x4c, 0x4d, 0x4f, 0x44, 0x45, 0x4c, 0x01]);

const UTF8 = new TextEncoder();

/**
 * The canonical byte serialization of a model (docs/training.md, "Model hash"):
 *
 * ```
 * magic    8 bytes  "PLMODEL" 0x01
 * idLen    u16 LE   byte length of the UTF-8 model id
 * id       idLen bytes
 * count    u16 LE   number of parameter tensors
 * per tensor: rank u8, then rank × u32 LE dimensions
 * values   parameterCount × f32 LE, tensors in spec order, each row-major
 * ```
 *
 * Non-finite values are refused, so NaN payload bits can never make two "equal" models hash
 * differently. −0 and +0 are kept as written (they are distinct float32 bit patterns).
 */
export function serializeModel(spec: ModelSpec, flat: Float32Array): Uint8Array {
  assertParameterLength(spec, flat);
  for (let i = 0; i < flat.length; i++) {
    if (!Number.isFinite(flat[i])) {
      throw new ProtolearnError(`parameter ${i} of model ${spec.id} is ${flat[i]}`, {
        code: "MODEL_NON_FINITE",
        fix: "the model diverged or the update is corrupt: lower the learning rate or discard this parameter vector",
      });
    }
  }
  const id = UTF8.encode(spec.id);
  let headerLength = MODEL_MAGIC.length + 2 + id.length + 2;
  for (const p of spec.params) headerLength += 1 + 4 * p.shape.length;
  const bytes = new Uint8Array(headerLength + 4 * flat.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MODEL_MAGIC, 0);
  let o = MODEL_MAGIC.length;
  view.setUint16(o, id.length, true);
  o += 2;
  bytes.set(id, o);
  o += id.length;
  view.setUint16(o, spec.params.length, true);
  o += 2;
  for (const p of spec.params) {
    view.setUint8(o, p.shape.length);
    o += 1;
    for (const d of p.shape) {
      view.setUint32(o, d, true);
      o += 4;
    }
  }
  for (let i = 0; i < flat.length; i++, o += 4) view.setFloat32(o, flat[i] as number, true);
  return bytes;
}

/**
 * keccak256 of {@link serializeModel}: the model hash that trainers, validators and the chain
 * (`modelHash_r`) agree on.
 *
 * @example
 * const hash = modelHash(mlp.spec, params); // "0x…"
 */
export function modelHash(spec: ModelSpec, flat: Float32Array): Hex {
  return keccak256Bytes(serializeModel(spec, flat));
}
