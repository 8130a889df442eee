import * as tf from "@tensorflow/tfjs-core";
import type { Address, Hex } from "viem";

import type { Batch, Dataset } from "../data/dataset.js";
import { exampleSize } from "../data/dataset.js";
import { DEFAULT_NUM_SHARDS } from "../data/shard.js";
import type { Model } from "../model/model.js";
import { validationBatchSize } from "../model/registry.js";
import { updateNorm } from "../aggregate/update-norm.js";
import { flattenParams, unflattenParams } from "../model/params.js";
import { parameterCount } from "../model/spec.js";
import { evaluateBatch } from "../train/evaluate.js";
import {
  DESCENT_Z_MIN,
  HARM_MARGIN,
  REFERENCE_NORM_CAP,
  SCORE_GAIN_FLOOR,
  SCORE_STEP,
  SCORE_SCALE_PPM,
  UNHELPFUL_SCORE_PPM,
} from "./constants.js";
import { ValidateError } from "./validate-error.js";
import { validationBatches } from "./validation-batches.js";

/** Mean cross-entropy of a validation batch under θ_r (`before`) and under θ_r − Δ (`after`). */
export interface LossPair {
  before: number;
  after: number;
}

/** The relative improvements a score is computed from. */
export interface ScoreGains {
  /** g_A: relative loss improvement on the assigned-shard batch. */
  assigned: number;
  /** g_R: relative loss improvement on the random-shard batch. */
  random: number;
  /** (2·g_A + g_R) / 3. */
  weighted: number;
}

/**
 * Why an update got its score:
 * - `helpful`: a descent direction that lowers the loss at the scoring step (score > 1 ppm);
 * - `unhelpful`: a descent direction that does not help enough (1 ppm: not accepted, not slashed);
 * - `not-descent`: fails the sign test — its signs do not follow the validation gradient (0);
 * - `oversized`: its norm exceeds {@link REFERENCE_NORM_CAP} × the reference norm (0);
 * - `harmful`: with no reference norm yet, raises the loss on both batches by more than the harm
 *   margin at the full and at the half step (0).
 */
export type ScoreVerdict = "helpful" | "unhelpful" | "not-descent" | "oversized" | "harmful";

/** What a score is decided from. */
export interface ScoreMeasurements {
  /** Losses before and at the scoring step θ_r − {@link SCORE_STEP}·Δ. */
  assigned: LossPair;
  random: LossPair;
  /** The sign test's statistic ({@link descentZ}); NaN when Δ and the gradient share no non-zero coordinate. */
  descentZ: number;
  /** ‖Δ‖ / the reference norm; undefined where there is no reference (the run's first trained round). */
  normRatio?: number | undefined;
  /** Losses after the full step θ_r − Δ and the half step θ_r − Δ/2: measured only without a reference norm. */
  harm?: { full: { assigned: number; random: number }; half: { assigned: number; random: number } } | undefined;
}

/** Inputs of {@link scoreUpdate}. */
export interface ScoreUpdateParameters {
  model: Model;
  dataset: Dataset;
  /** θ_r, the round's global parameters (flat). Not modified. */
  globalParams: Float32Array;
  /** The update as received, dense: Δ = θ_r − θ_local (`toDense(decodeUpdate(...))`). Not modified. */
  delta: Float32Array;
  /** The round seed `seed_r` (bytes32). */
  seed: Hex | Uint8Array;
  /** The trainer that revealed the update. */
  node: Address;
  /**
   * Examples per validation batch. Part of the scoring rule: every validator uses the model's
   * size ({@link validationBatchSize} of `model.spec.id`, the default), so only a measurement
   * (`npm run bench:scoring -- --sizes`) or a test of a model outside the registry sets this.
   * @default validationBatchSize(model.spec.id)
   */
  batchSize?: number;
  /** @default DEFAULT_NUM_SHARDS (8) */
  numShards?: number;
  /** Optional post-commit randomness mixed into the validation batches (docs/validation.md). */
  challenge?: Hex | Uint8Array;
  /**
   * The median norm of the latest earlier round's accepted updates (public: every validator holds
   * them); undefined before any round was accepted, and then the harm test stands in for it.
   */
  referenceNorm?: number | undefined;
}

/** An update's score and the measurements behind it. */
export interface UpdateScore {
  /** 0 … 1,000,000: what the validator submits for this update. */
  scorePpm: number;
  verdict: ScoreVerdict;
  /** The sign test's statistic (see {@link DESCENT_Z_MIN}). */
  descentZ: number;
  /** ‖Δ‖ / the reference norm, where there is one. */
  normRatio?: number | undefined;
  /** The full- and half-step losses, where they were measured (no reference norm). */
  harm?: ScoreMeasurements["harm"];
  /** Losses (before, and at the scoring step) on the trainer's assigned shard, and that shard. */
  assigned: LossPair & { shard: number };
  /** Losses on the control shard (never the assigned one), and that shard. */
  random: LossPair & { shard: number };
  gains: ScoreGains;
}

/**
 * Relative improvement `(before − after) / before`. A loss that became NaN or infinite is
 * `−∞` (the update broke the model); a baseline that is not a positive finite number cannot
 * be improved on and gives 0.
 */
export function relativeGain({ before, after }: LossPair): number {
  if (!(Number.isFinite(before) && before > 0)) return 0;
  if (!Number.isFinite(after)) return Number.NEGATIVE_INFINITY;
  return (before - after) / before;
}

/**
 * The sign test: over the k coordinates where both Δ and the gradient g are non-zero, with a of
 * them agreeing in sign, `z = (a − k/2) / √(k/4)`. g is the gradient of the validation loss at
 * θ_r on the assigned shard's batch and Δ = θ_r − θ_local, so a descent step on that shard's data
 * agrees with g on most coordinates (z > 0). Scale-free. If Δ's signs are independent of g (noise,
 * however shaped or sized), a is Binomial(k, ½) and Hoeffding's inequality gives
 * P(z ≥ t) ≤ exp(−t²/2). NaN when k = 0. Integer counts: deterministic everywhere.
 */
export function descentZ(delta: Float32Array, gradient: Float32Array): number {
  let k = 0;
  let agree = 0;
  for (let i = 0; i < delta.length; i++) {
    const d = delta[i] as number;
    const g = gradient[i] as number;
    if (d === 0 || g === 0 || Number.isNaN(d) || Number.isNaN(g)) continue;
    k++;
    if (d > 0 === g > 0) agree++;
  }
  return k > 0 ? (agree - k / 2) / Math.sqrt(k / 4) : Number.NaN;
}

/** Both batches' losses rose by more than {@link HARM_MARGIN}. */
function harms(assigned: LossPair, random: LossPair): boolean {
  return relativeGain(assigned) < -HARM_MARGIN && relativeGain(random) < -HARM_MARGIN;
}

/**
 * The scoring rule (docs/validation.md): with z the sign test ({@link descentZ}), g_A and g_R the
 * relative loss improvements on the assigned and the random batch at θ_r − Δ/4, and ρ = ‖Δ‖ over
 * the reference norm,
 *
 * ```
 * score = 0                                          if z < 5 (not a descent direction)
 *       = 0                                          if ρ > 3 (oversized)
 *       = 0                                          if there is no ρ and both losses rise > 1 % at Δ and at Δ/2 (harmful)
 *       = ⌊10⁶ · min(1, (2·g_A + g_R)/3 − 0.001)⌋   if g_A > 0 and that is ≥ 2 (helps)
 *       = 1                                          otherwise (valid, does not help)
 * ```
 * A 0 is slashed as invalid when every scorer gives it; an honest update that happens not to
 * help is merely not accepted (runs set `acceptScorePpm` ≥ 2).
 *
 * Float64 arithmetic on the measurements, so the same losses give the same score everywhere.
 */
export function scoreFromMeasurements(m: ScoreMeasurements): { scorePpm: number; verdict: ScoreVerdict; gains: ScoreGains } {
  const { assigned, random } = m;
  const gA = relativeGain(assigned);
  const gR = relativeGain(random);
  const weighted = (2 * gA + gR) / 3;
  const gains = { assigned: gA, random: gR, weighted };
  if (!(m.descentZ >= DESCENT_Z_MIN)) return { scorePpm: 0, verdict: "not-descent", gains };
  if (m.normRatio !== undefined && !(m.normRatio <= REFERENCE_NORM_CAP)) return { scorePpm: 0, verdict: "oversized", gains };
  if (m.normRatio === undefined && m.harm !== undefined) {
    const at = (after: { assigned: number; random: number }): boolean =>
      harms({ before: assigned.before, after: after.assigned }, { before: random.before, after: after.random });
    if (at(m.harm.full) && at(m.harm.half)) return { scorePpm: 0, verdict: "harmful", gains };
  }
  const above = weighted - SCORE_GAIN_FLOOR;
  const helpful = gA > 0 && above > 0 ? Math.floor(SCORE_SCALE_PPM * Math.min(1, above)) : 0;
  if (helpful > UNHELPFUL_SCORE_PPM) return { scorePpm: helpful, verdict: "helpful", gains };
  return { scorePpm: UNHELPFUL_SCORE_PPM, verdict: "unhelpful", gains };
}

/** The gradient of the mean loss on `batch` at `params`, flat (spec order). */
function batchGradient(model: Model, params: readonly tf.Tensor[], batch: Batch): Float32Array {
  const x = tf.tensor2d(batch.x, [batch.size, model.spec.inputSize]);
  const y = tf.tensor1d(batch.y, "int32");
  const { loss, gradients } = model.lossAndGradients(params, x, y);
  try {
    return flattenParams(model.spec, gradients);
  } finally {
    tf.dispose([x, y, loss, ...gradients]);
  }
}

/**
 * Scores one update: the loss of θ_r − Δ/4 against θ_r's on one batch
 * of the trainer's assigned shard and one batch of a control shard, both drawn from the
 * validation stream (never a training batch), at the scoring step θ_r − Δ/4; the sign test of Δ
 * against the gradient of the assigned batch's loss at θ_r; ‖Δ‖ against the reference norm, or
 * without one the losses at the full and the half step; then {@link scoreFromMeasurements}.
 *
 * Deterministic for a given TensorFlow.js backend. Validators on different backends may get
 * losses that differ in the last bits, and so, rarely, scores that differ by a ppm; the
 * on-chain stake-weighted median absorbs that.
 *
 * @example
 * const { scorePpm } = scoreUpdate({ model, dataset, globalParams, delta: toDense(update), seed, node });
 */
export function scoreUpdate(input: ScoreUpdateParameters): UpdateScore {
  const { model, dataset, globalParams, delta, seed, node, challenge } = input;
  const batchSize = input.batchSize ?? validationBatchSize(model.spec.id);
  const numShards = input.numShards ?? DEFAULT_NUM_SHARDS;
  const n = parameterCount(model.spec);
  if (globalParams.length !== n || delta.length !== n) {
    throw new ValidateError(
      `model ${model.spec.id} has ${n} parameters, θ_r has ${globalParams.length} and Δ has ${delta.length}`,
      {
        code: "VALIDATE_MODEL_MISMATCH",
        fix: "pass the run's model, its current global parameters and the dense update (toDense)",
      },
    );
  }
  if (
    dataset.numClasses !== model.spec.numClasses ||
    exampleSize(dataset) !== model.spec.inputSize
  ) {
    throw new ValidateError(
      `model ${model.spec.id} (input ${model.spec.inputSize}, ${model.spec.numClasses} classes) does not fit dataset ${dataset.id}`,
      { code: "VALIDATE_MODEL_MISMATCH", fix: "load the dataset the run trains on" },
    );
  }
  const batches = validationBatches({
    dataset,
    seed,
    node,
    batchSize,
    numShards,
    ...(challenge === undefined ? {} : { challenge }),
  });
  const beforeAssigned = evaluateBatch(model, globalParams, batches.assigned.batch).loss;
  const beforeRandom = evaluateBatch(model, globalParams, batches.random.batch).loss;
  const local = new Float32Array(n);
  const lossesAt = (fraction: number): { assigned: number; random: number } => {
    for (let i = 0; i < n; i++) local[i] = (globalParams[i] as number) - fraction * (delta[i] as number);
    return {
      assigned: evaluateBatch(model, local, batches.assigned.batch).loss,
      random: evaluateBatch(model, local, batches.random.batch).loss,
    };
  };
  const step = lossesAt(SCORE_STEP);
  const assigned = { shard: batches.assigned.shard, before: beforeAssigned, after: step.assigned };
  const random = { shard: batches.random.shard, before: beforeRandom, after: step.random };
  const tensors = unflattenParams(model.spec, globalParams);
  let gradient: Float32Array;
  try {
    // the assigned shard's gradient only: shards differ (MNIST shards are label-skewed), and the
    // control shard's gradient halves the test's power (measured: docs/validation.md)
    gradient = batchGradient(model, tensors, batches.assigned.batch);
  } finally {
    tf.dispose(tensors);
  }
  const z = descentZ(delta, gradient);
  const reference = input.referenceNorm;
  const normRatio = reference !== undefined && reference > 0 ? updateNorm(delta) / reference : undefined;
  const harm = normRatio === undefined ? { full: lossesAt(1), half: lossesAt(0.5) } : undefined;
  const decided = scoreFromMeasurements({ assigned, random, descentZ: z, normRatio, harm });
  return {
    ...decided,
    descentZ: z,
    ...(normRatio === undefined ? {} : { normRatio }),
    ...(harm === undefined ? {} : { harm }),
    assigned,
    random,
  };
}
