import type { Address, Hex } from "viem";
import { keccak256Bytes } from "../hashing/keccak.js";

import { aggregateUpdates, type AggregateResult } from "../aggregate/index.js";
import { CodecError, decodeUpdate, toDense, type DecodedUpdate } from "../codec/index.js";
import { modelHash } from "../model/hash.js";
import type { Model } from "../model/model.js";
import { parameterCount } from "../model/spec.js";
import { outerStep } from "../train/outer-step.js";
import { assertModelMatchesRun } from "./model-check.js";
import { RoundError } from "./round-error.js";
import { roundDecodeRules, type RoundRunParams } from "./round-params.js";

/** Options of {@link decodeRoundUpdate}. */
export interface DecodeRoundUpdateOptions {
  model: Model;
  params: RoundRunParams;
  /** The round the update must be for; omit to accept any round (audits). */
  round?: number;
}

/**
 * Decodes a peer's update under the run's rules ({@link roundDecodeRules}: model id and shapes,
 * size cap, bits, chunk size, at most the run's density). Throws the
 * codec's `CodecError` on anything else; a validator scores such an update 0 (invalid).
 */
export function decodeRoundUpdate(
  bytes: Uint8Array,
  options: DecodeRoundUpdateOptions,
): DecodedUpdate {
  return decodeUpdate(bytes, roundDecodeRules(options.model.spec, options.params, options.round));
}

/** One accepted update of the round, as revealed on chain and fetched from IPFS. */
export interface RoundUpdate {
  /** The trainer that revealed it. */
  node: Address;
  /** The encoded update (its keccak256 already checked against the revealed content hash). */
  bytes: Uint8Array;
  /** Samples declared in the reveal; reported, never a weight (docs/aggregation.md). */
  samples?: number;
}

/** Inputs of {@link nextModel}. */
export interface NextModelParameters {
  model: Model;
  /** θ_r. Not modified. */
  globalParams: Float32Array;
  /** The outer momentum buffer after round r − 1; `undefined` before the first outer step. Not modified. */
  momentum: Float32Array | undefined;
  /** The round's accepted updates, in any order (they are combined in ascending address order). */
  updates: readonly RoundUpdate[];
  params: RoundRunParams;
  /** The round the updates were made for; when given, each update's header must say so. */
  round?: number;
}

/** The global state after the round. */
export interface NextModelResult {
  /** θ_{r+1}. */
  params: Float32Array;
  /** The outer momentum buffer after this step: global state, kept with θ in every checkpoint. */
  momentum: Float32Array;
  /** keccak256 of the canonical serialization of θ_{r+1}: `modelHash_{r+1}` on chain. */
  modelHash: Hex;
  /** keccak256 of the momentum buffer as little-endian float32: lets checkpoints be checked too. */
  momentumHash: Hex;
  /** The robust aggregate Δ that the outer step applied. */
  aggregatedDelta: Float32Array;
  /** How aggregation treated each update (norms, clip factors, in address order). */
  aggregation: Omit<AggregateResult, "delta">;
}

/**
 * The global side of a round, computed identically by every node and validator: decode each
 * accepted update under the run's caps, combine them by clipping and a coordinate-wise trimmed
 * mean or median (in ascending node-address order), take the Nesterov outer step and hash the
 * result. Pure typed-array arithmetic with no backend kernel, so the same inputs in any order
 * give bit-identical parameters, momentum and hash on every machine.
 *
 * Throws `ROUND_INVALID_UPDATE` (naming the node) if an update does not decode: only updates
 * that passed validation may be passed here. A round without accepted updates keeps θ and the
 * momentum unchanged; do not call this for it (aggregation refuses an empty set).
 *
 * @example
 * const next = nextModel({ model, globalParams, momentum, updates: accepted, params, round });
 * await submitScores(round, scores, next.modelHash, evalLoss);
 */
export function nextModel(input: NextModelParameters): NextModelResult {
  const { model, globalParams, momentum, updates, params, round } = input;
  assertModelMatchesRun(model, params);
  const n = parameterCount(model.spec);
  if (globalParams.length !== n) {
    throw new RoundError(`θ_r has ${globalParams.length} values, model ${model.spec.id} has ${n}`, {
      code: "ROUND_MODEL_MISMATCH",
      fix: "pass the global parameters of the run's model (check the checkpoint against modelHash_r)",
    });
  }
  if (momentum !== undefined && momentum.length !== n) {
    throw new RoundError(`the momentum buffer has ${momentum.length} values, the model has ${n}`, {
      code: "ROUND_BAD_MOMENTUM",
      fix: "load the momentum saved with the same checkpoint as θ_r",
    });
  }
  const dense = updates.map(({ node, bytes, samples }) => {
    let decoded: DecodedUpdate;
    try {
      decoded = decodeRoundUpdate(bytes, {
        model,
        params,
        ...(round === undefined ? {} : { round }),
      });
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      throw new RoundError(`the update of ${node} does not decode: ${error.message}`, {
        code: "ROUND_INVALID_UPDATE",
        fix: "pass only updates that passed validation (a validator scores this one 0)",
        cause: error,
      });
    }
    return {
      address: node,
      update: toDense(decoded),
      ...(samples === undefined ? {} : { samples }),
    };
  });
  const { delta, ...aggregation } = aggregateUpdates(dense, {
    clipMultiple: params.clipMultiple,
    method: params.aggregation,
    trimFraction: params.trimFraction,
  });
  const stepped = outerStep({
    params: globalParams,
    delta,
    momentum,
    learningRate: params.outerLearningRate,
    momentumCoefficient: params.outerMomentum,
  });
  return {
    params: stepped.params,
    momentum: stepped.momentum,
    modelHash: modelHash(model.spec, stepped.params),
    // Hashed on demand: nodes compare model hashes, and hashing 4 bytes per parameter costs as
    // much as the model hash itself.
    get momentumHash(): Hex {
      return float32Hash(stepped.momentum);
    },
    aggregatedDelta: delta,
    aggregation,
  };
}

/** keccak256 over the values as little-endian float32, independent of the machine's byte order. */
function float32Hash(values: Float32Array): Hex {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i] as number, true);
  return keccak256Bytes(bytes);
}
