import * as tf from "@tensorflow/tfjs-core";

import { ProtolearnError } from "../errors.js";
import { createRng, type RngSeed } from "../random/index.js";
import {
  assertParameterLength,
  parameterCount,
  parameterOffsets,
  sizeOf,
  type ModelSpec,
} from "./spec.js";

/**
 * Deterministic initial parameters of `spec` from `seed`, as one flat vector.
 *
 * Each tensor draws from its own stream `createRng(seed).fork("init:" + name)`, so the values
 * of one tensor do not depend on the others. Uniform init uses only `nextFloat`, one multiply
 * and a float32 rounding — no transcendental functions — so every machine gets the same bits.
 */
export function initParams(spec: ModelSpec, seed: RngSeed): Float32Array {
  const flat = new Float32Array(parameterCount(spec));
  const offsets = parameterOffsets(spec);
  const root = createRng(seed);
  spec.params.forEach((param, i) => {
    if (param.init.kind === "zeros") return;
    const { limit } = param.init;
    const rng = root.fork(`init:${param.name}`);
    const start = offsets[i] as number;
    const end = start + sizeOf(param.shape);
    for (let j = start; j < end; j++) flat[j] = (2 * rng.nextFloat() - 1) * limit;
  });
  return flat;
}

/** Views (no copy) of each parameter tensor's values inside the flat vector, in spec order. */
export function splitParams(spec: ModelSpec, flat: Float32Array): Float32Array[] {
  assertParameterLength(spec, flat);
  const offsets = parameterOffsets(spec);
  return spec.params.map((_, i) => flat.subarray(offsets[i], offsets[i + 1]));
}

/** Uploads the flat vector as one tensor per parameter, on the active backend. The caller disposes them. */
export function unflattenParams(spec: ModelSpec, flat: Float32Array): tf.Tensor[] {
  const views = splitParams(spec, flat);
  // Copy: the cpu backend keeps the array it is given as the tensor's storage, and a view into
  // the caller's vector would let later writes to that vector change the tensor.
  return spec.params.map((p, i) =>
    tf.tensor((views[i] as Float32Array).slice(), [...p.shape], "float32"),
  );
}

/** The tensors in spec order, each checked against its spec shape. */
function checkedTensors(spec: ModelSpec, tensors: readonly tf.Tensor[]): tf.Tensor[] {
  return spec.params.map((p, i) => {
    const t = tensors[i];
    if (t === undefined || !tf.util.arraysEqual(t.shape, [...p.shape])) {
      throw new ProtolearnError(
        `tensor ${i} (${p.name}) of ${spec.id} has shape [${String(t?.shape)}], expected [${p.shape.join(",")}]`,
        { code: "MODEL_PARAM_SHAPE", fix: `pass the tensors of ${spec.id} in spec order` },
      );
    }
    return t;
  });
}

/** Reads parameter tensors back into one flat vector (spec order). Does not dispose them. */
export function flattenParams(spec: ModelSpec, tensors: readonly tf.Tensor[]): Float32Array {
  const flat = new Float32Array(parameterCount(spec));
  const offsets = parameterOffsets(spec);
  checkedTensors(spec, tensors).forEach((t, i) => {
    flat.set(t.dataSync() as Float32Array, offsets[i]);
  });
  return flat;
}

/**
 * {@link flattenParams} with asynchronous reads: the same bits, and it also works on backends that
 * cannot read synchronously (webgpu under Node, docs/training.md).
 */
export async function flattenParamsAsync(
  spec: ModelSpec,
  tensors: readonly tf.Tensor[],
): Promise<Float32Array> {
  const flat = new Float32Array(parameterCount(spec));
  const offsets = parameterOffsets(spec);
  const values = await Promise.all(checkedTensors(spec, tensors).map((t) => t.data()));
  values.forEach((v, i) => flat.set(v as Float32Array, offsets[i]));
  return flat;
}
