import { ProtolearnError } from "../errors.js";

/** How a parameter tensor is initialised. */
export type ParamInit =
  /** Every value drawn uniformly from [-limit, limit) (He-/Glorot-uniform, depending on the limit). */
  | { kind: "uniform"; limit: number }
  /** All zeros (biases). */
  | { kind: "zeros" };

/** One parameter tensor of a model. */
export interface ParamSpec {
  /** Stable name, e.g. `dense0/kernel`; it also keys the tensor's init stream. */
  name: string;
  /** Tensor shape, row-major. */
  shape: readonly number[];
  init: ParamInit;
  /** Whether AdamW's decoupled weight decay applies (kernels yes, biases no). */
  decay: boolean;
}

/** Everything that identifies a model's parameter layout: the id and the ordered tensor shapes. */
export interface ModelSpec {
  /** Stable model id, e.g. `mnist-mlp-v1`; part of the model hash and of every update's header. */
  id: string;
  /** Features per example, flat (`784` for a 28×28 image). */
  inputSize: number;
  /** Output classes. */
  numClasses: number;
  /** The parameter tensors, in the order they are flattened. */
  params: readonly ParamSpec[];
}

/** Number of values in a tensor of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Total number of parameters of the model (the length of its flat vector). */
export function parameterCount(spec: ModelSpec): number {
  let n = 0;
  for (const p of spec.params) n += sizeOf(p.shape);
  return n;
}

/** Start offset of each parameter tensor inside the flat vector, plus the total length at the end. */
export function parameterOffsets(spec: ModelSpec): number[] {
  const offsets = [0];
  let n = 0;
  for (const p of spec.params) {
    n += sizeOf(p.shape);
    offsets.push(n);
  }
  return offsets;
}

/** Throws unless `flat` has exactly the model's parameter count. */
export function assertParameterLength(spec: ModelSpec, flat: Float32Array): void {
  const expected = parameterCount(spec);
  if (flat.length !== expected) {
    throw new ProtolearnError(
      `parameter vector has ${flat.length} values but model ${spec.id} has ${expected}`,
      {
        code: "MODEL_PARAM_LENGTH",
        fix: `pass the flat parameters of ${spec.id} (check that the checkpoint or update was made for this model)`,
      },
    );
  }
}
