/**
 * bench:train's byte-transformer-v1 part: the language model's training step on the active
 * backend, against the same run's plain-matMul ceiling for its own largest product.
 *
 * Operations (single calls, timed in interleaved rounds by the caller's statistic):
 *  - `plain`: `tf.matMul` [W·128, 128]·[128, 512], the MLP-in product of every block over W
 *    windows of 128 positions: the CEILING;
 *  - `step`: forward+backward by autodiff (`model.lossAndGradients`);
 *  - `stepStock`: the same with the backend's own kernels (without `installPlainMatMul` and
 *    `installHeapKernels`);
 *  - `adamW`: one AdamW update of all 875,520 parameters;
 *  - `full`: the whole inner step as the trainer takes it (`trainStep`: the shard batch of the
 *    State of the Union corpus, upload, forward+backward, AdamW).
 *
 * FLOPs count the products only, as for the MNIST models: forward, every weight gradient, the
 * input gradients of every product but the one-hot embedding's. Attention's two products have
 * activations on both sides, so their backward pass is twice their forward. Per predicted byte
 * (context T = 128, d = 128, 4 layers, 256 byte values):
 * 3·(4·(24·d² + 4·T·d) + 4·256·d) − 2·256·d = 5,832,704; per window × 128.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Address, Hex } from "viem";

import { loadRunDataset } from "../node/src/data/run-dataset.js";
import { shardBatch } from "../node/src/data/shard.js";
import { initParams, unflattenParams } from "../node/src/model/params.js";
import {
  createByteTransformer,
  DEFAULT_TRANSFORMER_CONFIG,
} from "../node/src/model/transformer.js";
import { adamWOptionsSchema, createAdamW } from "../node/src/train/adamw.js";
import { trainStep } from "../node/src/train/train-step.js";

const { layers, dModel: D, context: T, mlpRatio } = DEFAULT_TRANSFORMER_CONFIG;
const VOCABULARY = 256;

/** Product FLOPs of one forward+backward pass per window (see the header). */
export const TRANSFORMER_FLOPS_PER_WINDOW =
  T * (3 * (layers * (24 * D * D + 4 * T * D) + 4 * VOCABULARY * D) - 2 * VOCABULARY * D);

export const TRANSFORMER_KINDS = ["plain", "step", "stepStock", "adamW", "full"] as const;
export type TransformerKind = (typeof TRANSFORMER_KINDS)[number];

const SEED: Hex = `0x${"be".repeat(32)}`;
const NODE: Address = "0x00000000000000000000000000000000000b3c4d";

/** The corpus's windows, loaded once for every batch size and backend the benchmark times. */
let corpus: ReturnType<typeof loadRunDataset> | undefined;

/** What {@link transformerOps} needs from the benchmark around it. */
export interface TransformerBenchContext {
  /** Waits for a tensor's value (`dataSync`, or `await data()` on webgpu). */
  sync(t: tf.Tensor | undefined): Promise<void>;
  /** Runs `f` with the backend's own kernels (without the installed replacements). */
  withStockKernels(f: () => Promise<void>): Promise<void>;
}

/** The operations at one batch of `windows` windows, and a function that frees them. */
export interface TransformerOps {
  ops: Record<TransformerKind, () => Promise<void>>;
  dispose(): void;
  /** FLOPs of the ceiling's product and of one training step. */
  flops: { plain: number; step: number };
}

/**
 * Builds the byte-transformer-v1 operations at `windows` windows per step. Parameters start
 * from the same seeded initialisation as a run's genesis model.
 */
export async function transformerOps(
  windows: number,
  context: TransformerBenchContext,
): Promise<TransformerOps> {
  const model = createByteTransformer();
  corpus ??= loadRunDataset(model);
  const dataset = await corpus;
  const init = initParams(model.spec, "bench");
  const params = unflattenParams(model.spec, init);
  const adamOptions = adamWOptionsSchema.parse({});
  let live = unflattenParams(model.spec, init);
  const fullAdam = createAdamW(model.spec, live, adamOptions);
  let adamOnlyParams = unflattenParams(model.spec, init);
  const adamOnly = createAdamW(model.spec, adamOnlyParams, adamOptions);
  const first = shardBatch(dataset, SEED, NODE, 0, windows);
  const x = tf.tensor2d(first.x, [windows, model.spec.inputSize]);
  const y = tf.tensor1d(first.y, "int32");
  const fixed = model.lossAndGradients(params, x, y);
  const hidden = mlpRatio * D;
  const a = tf.randomUniform([windows * T, D], -0.5, 0.5, "float32", 1);
  const w = tf.randomUniform([D, hidden], -0.5, 0.5, "float32", 2);
  let step = 0;
  const ops: Record<TransformerKind, () => Promise<void>> = {
    plain: async () => {
      const c = tf.matMul(a, w);
      await context.sync(c);
      c.dispose();
    },
    step: async () => {
      const r = model.lossAndGradients(params, x, y);
      await context.sync(r.loss);
      tf.dispose([r.loss, ...r.gradients]);
    },
    stepStock: () => context.withStockKernels(() => ops.step()),
    adamW: async () => {
      adamOnlyParams = adamOnly.step(adamOnlyParams, fixed.gradients);
      await context.sync(adamOnlyParams[0]);
    },
    full: async () => {
      const r = trainStep(model, fullAdam, live, shardBatch(dataset, SEED, NODE, step++, windows));
      live = r.params;
      await context.sync(r.loss);
      r.loss.dispose();
    },
  };
  return {
    ops,
    flops: { plain: 2 * windows * T * D * hidden, step: TRANSFORMER_FLOPS_PER_WINDOW * windows },
    dispose() {
      tf.dispose([params, live, adamOnlyParams, x, y, fixed.loss, fixed.gradients, a, w]);
      fullAdam.dispose();
      adamOnly.dispose();
    },
  };
}
