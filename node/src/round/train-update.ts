import type { Address, Hex } from "viem";

import { contentHash, encodeUpdate, type EncodeStats } from "../codec/index.js";
import type { Dataset } from "../data/dataset.js";
import type { Model } from "../model/model.js";
import { parameterCount } from "../model/spec.js";
import { innerLoop } from "../train/inner-loop.js";
import { pseudoGradient } from "../train/outer-step.js";
import { RoundError } from "./round-error.js";
import { assertModelMatchesRun } from "./model-check.js";
import type { RoundRunParams } from "./round-params.js";

/** Inputs of {@link trainUpdate}. */
export interface TrainUpdateParameters {
  model: Model;
  dataset: Dataset;
  /** θ_r, the round's global parameters (flat). Not modified. */
  globalParams: Float32Array;
  /** The round's seed `seed_r` (bytes32). With `node` it fixes the shard and every batch. */
  seed: Hex | Uint8Array;
  /** This trainer's address. */
  node: Address;
  /** The round number; it goes into the update's header and decoders check it. */
  round: number;
  /** The run's parameters (H, batch size, learning rate, density, bits, ...). */
  params: RoundRunParams;
  /**
   * The error-feedback residual this node kept from its previous update, or `null` for its
   * first update (or after a model change that invalidates it). Not modified.
   */
  residual: Float32Array | null;
  /** Aborts the inner loop between steps. */
  signal?: AbortSignal;
  /** Progress of the inner loop (steps done, H). */
  onStep?: (done: number, total: number) => void;
}

/** One trainer's contribution to a round, ready to put on IPFS and commit. */
export interface TrainUpdateResult {
  /** The encoded update (docs/update-format.md). */
  bytes: Uint8Array;
  /** keccak256(bytes): the value committed and revealed on chain. */
  contentHash: Hex;
  /** Training examples consumed (`H × batchSize`), declared in the reveal. */
  samples: number;
  /** The new error-feedback residual: persist it and pass it to the next round's call. */
  residual: Float32Array;
  /** Mean training loss over the inner steps (each measured before that step's update). */
  trainLoss: number;
  /** Shard trained on, encoder sizes and norms. */
  stats: EncodeStats & { shard: number };
}

/**
 * A trainer's whole round, in the order the protocol fixes: `H` AdamW steps from θ_r on the
 * node's assigned shard (`innerLoop`), the pseudo-gradient Δ = θ_r − θ_local, then top-k,
 * quantization and error feedback (`encodeUpdate`) into the versioned update format.
 *
 * The simulation and the node daemon both call this, so what the simulation measures is what
 * the network runs. Deterministic for a given backend: the same inputs give the same bytes.
 *
 * @example
 * const update = await trainUpdate({ model, dataset, globalParams, seed, node, round, params, residual });
 * const cid = await store.put(update.bytes);
 * await saveResidual(update.residual);
 */
export async function trainUpdate(input: TrainUpdateParameters): Promise<TrainUpdateResult> {
  const { model, dataset, globalParams, seed, node, round, params, residual, signal } = input;
  assertModelMatchesRun(model, params);
  const n = parameterCount(model.spec);
  if (residual !== null && residual.length !== n) {
    throw new RoundError(
      `the stored residual has ${residual.length} values, model ${model.spec.id} has ${n}`,
      {
        code: "ROUND_BAD_RESIDUAL",
        fix: "the residual belongs to another model: delete it and pass null (the node loses only the untransmitted part of earlier updates)",
      },
    );
  }
  const local = await innerLoop({
    model,
    dataset,
    globalParams,
    seed,
    node,
    steps: params.innerSteps,
    batchSize: params.batchSize,
    numShards: params.numShards,
    optimizer: { learningRate: params.innerLearningRate, weightDecay: params.weightDecay },
    ...(signal === undefined ? {} : { signal }),
    ...(input.onStep === undefined ? {} : { onStep: input.onStep }),
  });
  const delta = pseudoGradient(globalParams, local.params);
  const encoded = encodeUpdate(delta, {
    modelId: params.modelId,
    round,
    shapes: model.spec.params.map((p) => p.shape),
    density: params.density,
    bits: params.bits,
    chunkSize: params.chunkSize,
    residual,
  });
  let lossSum = 0;
  for (const loss of local.losses) lossSum += loss;
  return {
    bytes: encoded.bytes,
    contentHash: contentHash(encoded.bytes),
    samples: local.samples,
    residual: encoded.residual,
    trainLoss: local.losses.length === 0 ? Number.NaN : lossSum / local.losses.length,
    stats: { ...encoded.stats, shard: local.shard },
  };
}
