import * as tf from "@tensorflow/tfjs-core";
import type { Address, Hex } from "viem";

import type { Dataset } from "../data/dataset.js";
import { assignShard, DEFAULT_NUM_SHARDS, shardBatch } from "../data/shard.js";
import { ProtolearnError } from "../errors.js";
import type { Model } from "../model/model.js";
import { flattenParamsAsync, unflattenParams } from "../model/params.js";
import { adamWOptionsSchema, createAdamW, type AdamWOptions } from "./adamw.js";
import { trainStep } from "./train-step.js";

/** Inputs of {@link innerLoop}. */
export interface InnerLoopParameters {
  model: Model;
  dataset: Dataset;
  /** θ_r, the round's global parameters (flat). Not modified. */
  globalParams: Float32Array;
  /** The round seed `seed_r` (bytes32). */
  seed: Hex | Uint8Array;
  /** This trainer's address; with the seed it fixes the shard and every batch. */
  node: Address;
  /** Inner steps `H` (a run parameter). */
  steps: number;
  batchSize: number;
  /** @default DEFAULT_NUM_SHARDS (8) */
  numShards?: number;
  /** AdamW settings; omitted fields take the defaults of {@link adamWOptionsSchema}. */
  optimizer?: Partial<AdamWOptions>;
  /** Aborts between steps. */
  signal?: AbortSignal;
  /** Called after each step with the number of steps done (progress display; no loss read, no sync). */
  onStep?: (done: number, total: number) => void;
}

/** What one inner loop produced. */
export interface InnerLoopResult {
  /** θ_local after `steps` AdamW steps (flat). */
  params: Float32Array;
  /** Training loss of each step's batch, measured before that step's update. */
  losses: number[];
  /** Training examples consumed: `steps × batchSize`. */
  samples: number;
  /** The shard trained on. */
  shard: number;
}

/**
 * The DiLoCo inner loop: starting from the global parameters, `steps` AdamW steps on the node's
 * assigned shard, batch `t` being `shardBatch(dataset, seed, node, t, batchSize)`. Optimizer
 * state starts fresh each round (the reference DiLoCo keeps it across rounds; here each round is
 * reproducible from chain data alone, which is what a validator needs).
 *
 * Backend tensors are freed before it returns; `tf.memory().numTensors` is unchanged.
 *
 * @example
 * const { params, losses } = await innerLoop({ model, dataset, globalParams, seed, node, steps: 50, batchSize: 64 });
 * const delta = pseudoGradient(globalParams, params);
 */
export async function innerLoop(input: InnerLoopParameters): Promise<InnerLoopResult> {
  const { model, dataset, globalParams, seed, node, steps, batchSize, signal } = input;
  const numShards = input.numShards ?? DEFAULT_NUM_SHARDS;
  const optimizer = adamWOptionsSchema.parse(input.optimizer ?? {});
  if (!Number.isInteger(steps) || steps < 0) {
    throw new ProtolearnError(`inner steps H = ${steps} is not a non-negative integer`, {
      code: "TRAIN_BAD_STEPS",
      fix: "use the run's H parameter (a non-negative integer)",
    });
  }
  if (
    dataset.numClasses !== model.spec.numClasses ||
    dataset.exampleShape.reduce((a, b) => a * b, 1) !== model.spec.inputSize
  ) {
    throw new ProtolearnError(
      `model ${model.spec.id} (input ${model.spec.inputSize}, ${model.spec.numClasses} classes) does not fit dataset ${dataset.id} (example ${dataset.exampleShape.join("x")}, ${dataset.numClasses} classes)`,
      { code: "TRAIN_MODEL_DATA_MISMATCH", fix: "pick the model the run names for this dataset" },
    );
  }
  const shard = assignShard(seed, node, numShards);
  let params = unflattenParams(model.spec, globalParams);
  const optimizerState = createAdamW(model.spec, params, optimizer);
  const lossTensors: tf.Scalar[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      if (signal?.aborted === true) {
        throw new ProtolearnError(`inner loop aborted at step ${step} of ${steps}`, {
          code: "TRAIN_ABORTED",
          fix: "nothing to fix if the node is shutting down; otherwise rerun the round",
          cause: signal.reason,
        });
      }
      const batch = shardBatch(dataset, seed, node, step, batchSize, numShards);
      const result = trainStep(model, optimizerState, params, batch);
      params = result.params;
      lossTensors.push(result.loss);
      input.onStep?.(step + 1, steps);
      // Let an abort signal or other work in the process through between steps.
      if (step % 8 === 7) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // One read of all losses at the end keeps the backend's pipeline free of per-step syncs.
    // Asynchronous reads: the same values, and the webgpu backend can only read this way.
    let losses: number[] = [];
    if (lossTensors.length > 0) {
      const stacked = tf.stack(lossTensors);
      try {
        losses = Array.from(await stacked.data());
      } finally {
        stacked.dispose();
      }
    }
    const flat = await flattenParamsAsync(model.spec, params);
    return { params: flat, losses, samples: steps * batchSize, shard };
  } finally {
    tf.dispose([...params, ...lossTensors]);
    optimizerState.dispose();
  }
}
