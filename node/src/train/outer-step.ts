import { ProtolearnError } from "../errors.js";

/** DiLoCo's outer learning rate. */
export const DEFAULT_OUTER_LEARNING_RATE = 0.7;
/** DiLoCo's outer Nesterov momentum. */
export const DEFAULT_OUTER_MOMENTUM = 0.9;

/** Inputs of {@link outerStep}; every array has the model's parameter count. */
export interface OuterStepParameters {
  /** θ_r, the global parameters of the round. */
  params: Float32Array;
  /** The aggregated pseudo-gradient Δ (mean over accepted updates of θ_r − θ_local). */
  delta: Float32Array;
  /** The momentum buffer after the previous outer step; `undefined` (first round) means zeros. */
  momentum: Float32Array | undefined;
  /** @default 0.7 */
  learningRate?: number;
  /** @default 0.9 */
  momentumCoefficient?: number;
}

/** θ_{r+1} and the momentum buffer to pass to the next outer step. */
export interface OuterStepResult {
  params: Float32Array;
  momentum: Float32Array;
}

function assertSameLength(name: string, array: Float32Array, expected: number): void {
  if (array.length !== expected) {
    throw new ProtolearnError(
      `outer step: ${name} has ${array.length} values, the parameters have ${expected}`,
      {
        code: "TRAIN_OUTER_LENGTH",
        fix: "pass the pseudo-gradient and momentum of the same model as the parameters",
      },
    );
  }
}

/**
 * Δ = θ_global − θ_local, element by element, each difference rounded to float32. A pure
 * function: every node and validator computes the same bits.
 */
export function pseudoGradient(
  globalParams: Float32Array,
  localParams: Float32Array,
): Float32Array {
  assertSameLength("the local parameters", localParams, globalParams.length);
  const delta = new Float32Array(globalParams.length);
  for (let i = 0; i < delta.length; i++)
    delta[i] = (globalParams[i] as number) - (localParams[i] as number);
  return delta;
}

/**
 * The DiLoCo outer step: SGD with Nesterov momentum on the aggregated pseudo-gradient, in the
 * form of `torch.optim.SGD(nesterov=True)`:
 *
 * ```
 * b ← f32(μ·b + Δ)
 * θ ← f32(θ − η·(Δ + μ·b))
 * ```
 *
 * Each right-hand side is evaluated left to right in float64 (so every intermediate is a
 * correctly rounded IEEE-754 operation) and rounded to float32 once when stored. No backend
 * kernel, no fused multiply-add, no reduction: the result is bit-identical on every machine,
 * which the model hash (`modelHash_{r+1}`) depends on. Inputs are not modified.
 */
export function outerStep(input: OuterStepParameters): OuterStepResult {
  const { params, delta } = input;
  const lr = input.learningRate ?? DEFAULT_OUTER_LEARNING_RATE;
  const mu = input.momentumCoefficient ?? DEFAULT_OUTER_MOMENTUM;
  if (!Number.isFinite(lr) || lr <= 0 || !Number.isFinite(mu) || mu < 0 || mu >= 1) {
    throw new ProtolearnError(`outer step: learning rate ${lr} / momentum ${mu} out of range`, {
      code: "TRAIN_OUTER_SETTINGS",
      fix: "use a positive learning rate and a momentum in [0, 1) (DiLoCo: 0.7 and 0.9)",
    });
  }
  assertSameLength("Δ", delta, params.length);
  if (input.momentum !== undefined)
    assertSameLength("the momentum buffer", input.momentum, params.length);
  const previous = input.momentum;
  const momentum = new Float32Array(params.length);
  const next = new Float32Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const d = delta[i] as number;
    const b = mu * (previous === undefined ? 0 : (previous[i] as number)) + d;
    momentum[i] = b;
    const stored = momentum[i] as number;
    next[i] = (params[i] as number) - lr * (d + mu * stored);
  }
  return { params: next, momentum };
}
