import type { Address, Hex } from "viem";

import type { Dataset } from "../data/dataset.js";
import { exampleSize } from "../data/dataset.js";
import { DEFAULT_NUM_SHARDS } from "../data/shard.js";
import type { Model } from "../model/model.js";
import { parameterCount } from "../model/spec.js";
import { evaluateBatch } from "../train/evaluate.js";
import {
  DEFAULT_VALIDATION_BATCH_SIZE,
  HARM_MARGIN,
  SCORE_GAIN_FLOOR,
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
   * Examples per validation batch (part of the scoring rule: all validators must agree on it).
   * @default DEFAULT_VALIDATION_BATCH_SIZE (256)
   */
  batchSize?: number;
  /** @default DEFAULT_NUM_SHARDS (8) */
  numShards?: number;
  /** Optional post-commit randomness mixed into the validation batches (docs/validation.md). */
  challenge?: Hex | Uint8Array;
}

/** An update's score and the four losses behind it. */
export interface UpdateScore {
  /** 0 … 1,000,000: what the validator submits for this update. */
  scorePpm: number;
  /** Losses on the trainer's assigned shard, and that shard. */
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
 * The scoring rule (docs/validation.md): with g_A and g_R the relative improvements on the
 * assigned and the random batch,
 *
 * ```
 * score = ⌊10⁶ · min(1, (2·g_A + g_R)/3 − 0.001)⌋   if g_A > 0 and that is ≥ 2 (helps)
 *       = 0                                          if g_A < −0.01 and g_R < −0.01 (harms both)
 *       = 1                                          otherwise (valid, does not help)
 * ```
 * Only a harmful update scores 0, which the run slashes as invalid; an honest update that
 * happens not to help (measured: ~3 % of honest updates at H = 5) is merely not accepted
 * (runs set `acceptScorePpm` ≥ 2).
 *
 * Float64 arithmetic on the four losses, so the same losses give the same score everywhere.
 */
export function scoreFromLosses(
  assigned: LossPair,
  random: LossPair,
): { scorePpm: number; gains: ScoreGains } {
  const gA = relativeGain(assigned);
  const gR = relativeGain(random);
  const weighted = (2 * gA + gR) / 3;
  const gains = { assigned: gA, random: gR, weighted };
  const above = weighted - SCORE_GAIN_FLOOR;
  const helpful = gA > 0 && above > 0 ? Math.floor(SCORE_SCALE_PPM * Math.min(1, above)) : 0;
  if (helpful > UNHELPFUL_SCORE_PPM) return { scorePpm: helpful, gains };
  if (gA < -HARM_MARGIN && gR < -HARM_MARGIN) return { scorePpm: 0, gains };
  return { scorePpm: UNHELPFUL_SCORE_PPM, gains };
}

/**
 * Scores one update: the loss of the trainer's local model θ_r − Δ against θ_r's on one batch
 * of the trainer's assigned shard and one batch of a control shard, both drawn from the
 * validation stream (never a training batch), then {@link scoreFromLosses}.
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
  const batchSize = input.batchSize ?? DEFAULT_VALIDATION_BATCH_SIZE;
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
  const local = new Float32Array(n);
  for (let i = 0; i < n; i++) local[i] = (globalParams[i] as number) - (delta[i] as number);
  const assigned = {
    shard: batches.assigned.shard,
    before: evaluateBatch(model, globalParams, batches.assigned.batch).loss,
    after: evaluateBatch(model, local, batches.assigned.batch).loss,
  };
  const random = {
    shard: batches.random.shard,
    before: evaluateBatch(model, globalParams, batches.random.batch).loss,
    after: evaluateBatch(model, local, batches.random.batch).loss,
  };
  return { ...scoreFromLosses(assigned, random), assigned, random };
}
