import * as tf from "@tensorflow/tfjs-core";

import type { Dataset, Split } from "../data/dataset.js";
import { ProtolearnError } from "../errors.js";
import { unflattenParams } from "./params.js";
import type { ByteTransformer } from "./transformer.js";

/**
 * Held-out windows scored by default: 32 windows of 129 bytes (4,096 predicted bytes), about
 * 0.7 s for byte-transformer-v1 on the wasm backend.
 */
export const DEFAULT_BPB_WINDOWS = 32;

/** Options of {@link evaluateBitsPerByte}. */
export interface BitsPerByteOptions {
  /** @default "eval" */
  split?: Split;
  /** Windows scored, spread evenly over the split. @default DEFAULT_BPB_WINDOWS (32) */
  windows?: number;
  /** Windows per forward pass. @default 8 */
  batchSize?: number;
}

/** A language model's held-out score. */
export interface BitsPerByte {
  /** Mean next-byte cross-entropy in bits: `loss / ln 2`. 8 is a uniform guess over 256 bytes. */
  bitsPerByte: number;
  /** Mean next-byte cross-entropy in nats. */
  loss: number;
  /** Bytes predicted: windows × context. */
  bytes: number;
  /** Windows scored. */
  windows: number;
}

/**
 * The fixed subset {@link evaluateBitsPerByte} scores: `count` window indices spread evenly over a
 * split of `size` windows, `⌊i·size/count⌋` for `i < count` (all of them when `count ≥ size`).
 */
export function evenlySpacedIndices(size: number, count: number): number[] {
  const n = Math.min(size, count);
  return Array.from({ length: n }, (_, i) => Math.floor((i * size) / n));
}

/** The windows to score and their width, checked against the model. */
interface BitsPerBytePlan {
  split: Split;
  batchSize: number;
  indices: number[];
  width: number;
}

function planBitsPerByte(
  model: ByteTransformer,
  dataset: Dataset,
  options: BitsPerByteOptions,
): BitsPerBytePlan {
  const split = options.split ?? "eval";
  const batchSize = options.batchSize ?? 8;
  const indices = evenlySpacedIndices(dataset.size[split], options.windows ?? DEFAULT_BPB_WINDOWS);
  const width = model.spec.inputSize;
  if (dataset.exampleShape.reduce((a, b) => a * b, 1) !== width || indices.length === 0) {
    throw new ProtolearnError(
      `dataset ${dataset.id} (example ${dataset.exampleShape.join("x")}, ${dataset.size[split]} ${split} windows) does not fit ${model.spec.id} (windows of ${width} bytes)`,
      {
        code: "TRAIN_MODEL_DATA_MISMATCH",
        fix: "use a byte-window dataset with the model's context length",
      },
    );
  }
  return { split, batchSize, indices, width };
}

/**
 * The mean loss of each batch of windows, as a scalar tensor the consumer reads (synchronously or
 * not) before asking for the next; the parameters are uploaded once and freed at the end.
 */
function* batchLosses(
  model: ByteTransformer,
  params: Float32Array,
  dataset: Dataset,
  plan: BitsPerBytePlan,
): Generator<{ loss: tf.Scalar; windows: number }, void, void> {
  const tensors = unflattenParams(model.spec, params);
  try {
    for (let start = 0; start < plan.indices.length; start += plan.batchSize) {
      const chunk = plan.indices.slice(start, start + plan.batchSize);
      const batch = dataset.batch(plan.split, chunk);
      const loss = tf.tidy(() =>
        model.sequenceLoss(tensors, tf.tensor2d(batch.x, [batch.size, plan.width])),
      );
      try {
        yield { loss, windows: chunk.length };
      } finally {
        loss.dispose();
      }
    }
  } finally {
    tf.dispose(tensors);
  }
}

function bitsPerByteResult(weightedLoss: number, plan: BitsPerBytePlan): BitsPerByte {
  const loss = weightedLoss / plan.indices.length;
  return {
    bitsPerByte: loss / Math.LN2,
    loss,
    bytes: plan.indices.length * (plan.width - 1),
    windows: plan.indices.length,
  };
}

/**
 * Held-out bits per byte of a byte-level language model: the mean cross-entropy over every
 * position of a fixed set of windows (see {@link evenlySpacedIndices}), divided by ln 2. The
 * windows depend only on the dataset, so every node scores the same bytes; the value is computed
 * on the active backend and, like `evaluate`'s loss, may differ in the last bits across backends
 * (reported, not hashed).
 *
 * @example
 * const { bitsPerByte } = evaluateBitsPerByte(model, params, loadSotuDataset(128));
 */
export function evaluateBitsPerByte(
  model: ByteTransformer,
  params: Float32Array,
  dataset: Dataset,
  options: BitsPerByteOptions = {},
): BitsPerByte {
  const plan = planBitsPerByte(model, dataset, options);
  let weightedLoss = 0;
  // Every window has the same number of targets, so batch means weigh by window count.
  for (const { loss, windows } of batchLosses(model, params, dataset, plan)) {
    weightedLoss += (loss.dataSync()[0] as number) * windows;
  }
  return bitsPerByteResult(weightedLoss, plan);
}

/**
 * {@link evaluateBitsPerByte} with asynchronous reads: the same value, and it also runs on the
 * webgpu backend, which cannot read synchronously under Node (docs/training.md).
 */
export async function evaluateBitsPerByteAsync(
  model: ByteTransformer,
  params: Float32Array,
  dataset: Dataset,
  options: BitsPerByteOptions = {},
): Promise<BitsPerByte> {
  const plan = planBitsPerByte(model, dataset, options);
  let weightedLoss = 0;
  for (const { loss, windows } of batchLosses(model, params, dataset, plan)) {
    weightedLoss += ((await loss.data())[0] as number) * windows;
  }
  return bitsPerByteResult(weightedLoss, plan);
}
