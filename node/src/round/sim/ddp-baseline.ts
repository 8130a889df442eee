import * as tf from "@tensorflow/tfjs-core";
import type { Address, Hex } from "viem";

import type { Dataset } from "../../data/dataset.js";
import { assignShard, shardBatchIndices } from "../../data/shard.js";
import type { Model } from "../../model/model.js";
import { flattenParamsAsync, unflattenParams } from "../../model/params.js";
import { adamWOptionsSchema, createAdamW, type AdamW } from "../../train/adamw.js";
import { trainStep } from "../../train/train-step.js";
import type { RoundRunParams } from "../round-params.js";

/** Inputs of {@link createDdpBaseline}. */
export interface DdpBaselineInit {
  model: Model;
  dataset: Dataset;
  /** Starting parameters (the run's genesis model). Not modified. */
  initialParams: Float32Array;
  /** The simulated nodes; their batches are the ones the baseline trains on. */
  nodes: readonly Address[];
  /** H, batch size, inner learning rate, weight decay and shard count are used. */
  params: RoundRunParams;
}

/** The data-parallel reference run, advanced one protocol round at a time. */
export interface DdpBaseline {
  /** Current parameters (a copy; read asynchronously, so it also works on webgpu). */
  params(): Promise<Float32Array>;
  /**
   * `H` synchronous steps over the round's batches: at step t every node's batch t (the same
   * indices `trainUpdate` uses) is concatenated and one AdamW step is taken on the mean loss.
   * Returns the mean training loss of the round's steps.
   */
  runRound(seed: Hex, onStep?: () => void): Promise<{ trainLoss: number }>;
  /** Frees the parameter and optimizer tensors. */
  dispose(): void;
}

/**
 * The baseline the simulation compares against: data-parallel training that averages DENSE
 * float32 gradients every step. With N nodes of equal batch size, the mean of their per-node mean
 * gradients equals the gradient of the mean loss over the concatenated batch, so this runs as one
 * AdamW optimizer on batches of `N × batchSize` — the same samples, in the same steps, with the
 * same optimizer settings as the protocol's inner loops, and with one optimizer state that lives
 * for the whole run (as in real DDP).
 */
export function createDdpBaseline(init: DdpBaselineInit): DdpBaseline {
  const { model, dataset, nodes, params: run } = init;
  let params = unflattenParams(model.spec, init.initialParams);
  // The same options object the inner loop builds, so both optimizers differ only in batch size.
  const optimizer: AdamW = createAdamW(
    model.spec,
    params,
    adamWOptionsSchema.parse({ learningRate: run.innerLearningRate, weightDecay: run.weightDecay }),
  );
  return {
    params: () => flattenParamsAsync(model.spec, params),
    async runRound(seed, onStep) {
      const shards = nodes.map((node) => assignShard(seed, node, run.numShards));
      const losses: tf.Scalar[] = [];
      try {
        for (let step = 0; step < run.innerSteps; step++) {
          const indices = nodes.flatMap((node, j) =>
            shardBatchIndices({
              seed,
              node,
              step,
              batchSize: run.batchSize,
              trainSize: dataset.size.train,
              shard: shards[j] as number,
              numShards: run.numShards,
            }),
          );
          const result = trainStep(model, optimizer, params, dataset.batch("train", indices));
          params = result.params;
          losses.push(result.loss);
          onStep?.();
          if (step % 8 === 7) await new Promise<void>((resolve) => setImmediate(resolve));
        }
        let sum = 0;
        for (const loss of losses) sum += (await loss.data())[0] as number;
        return { trainLoss: losses.length === 0 ? Number.NaN : sum / losses.length };
      } finally {
        tf.dispose(losses);
      }
    },
    dispose() {
      tf.dispose(params);
      optimizer.dispose();
    },
  };
}
