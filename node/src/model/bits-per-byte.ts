import * as tf from "@tensorflow/tfjs-core";

import type { Batch, Dataset, Split } from "../data/dataset.js";
import { ProtolearnError } from "../errors.js";
import { unflattenParams } from "./params.js";
import { MAX_WINDOWS_PER_PASS, splitWindows, type ByteTransformer } from "./transformer.js";

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
  /** Windows per forward pass (at most MAX_WINDOWS_PER_PASS). @default 8 */
  batchSize?: number;
}

/** A language model's held-out score. */
export interface BitsPerByte {
  /** Mean next-byte cross-entropy in bits: `loss / ln 2`. 8 is a uniform guess over 256 bytes. */
  bitsPerByte: number;
  /** Mean next-byte cross-entropy in nats. */
  loss: number;
  /** Share of predicted bytes whose most likely next byte (arg-max, lowest byte on a tie) is the actual one. */
  accuracy: number;
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
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 8, MAX_WINDOWS_PER_PASS));
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
 * The summed next-byte loss (nats) and the number of correct top-1 next-byte predictions over
 * every position of `windows: [n, width]` (byte values), as scalar tensors.
 */
function windowScores(
  model: ByteTransformer,
  tensors: readonly tf.Tensor[],
  windows: tf.Tensor2D,
): { lossSum: tf.Scalar; correct: tf.Scalar } {
  return tf.tidy(() => {
    const { inputs, targets } = splitWindows(windows);
    const logits = tf.reshape(model.sequenceLogits(tensors, inputs), [
      targets.size,
      -1,
    ]) as tf.Tensor2D;
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, logits.shape[1])), 1);
    const lossSum = tf.neg(tf.sum(picked)) as tf.Scalar;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), targets), "int32")) as tf.Scalar;
    return { lossSum, correct };
  });
}

/**
 * The scores of each pass of at most `plan.batchSize` windows, as tensors the consumer reads
 * (synchronously or not) before asking for the next; the parameters are uploaded once and freed
 * at the end.
 */
function* passScores(
  model: ByteTransformer,
  params: Float32Array,
  dataset: Dataset,
  plan: BitsPerBytePlan,
): Generator<{ lossSum: tf.Scalar; correct: tf.Scalar }, void, void> {
  const tensors = unflattenParams(model.spec, params);
  try {
    for (let start = 0; start < plan.indices.length; start += plan.batchSize) {
      const chunk = plan.indices.slice(start, start + plan.batchSize);
      const batch = dataset.batch(plan.split, chunk);
      const scores = tf.tidy(() =>
        windowScores(model, tensors, tf.tensor2d(batch.x, [batch.size, plan.width])),
      );
      try {
        yield scores;
      } finally {
        tf.dispose([scores.lossSum, scores.correct]);
      }
    }
  } finally {
    tf.dispose(tensors);
  }
}

function bitsPerByteResult(lossSum: number, correct: number, plan: BitsPerBytePlan): BitsPerByte {
  const bytes = plan.indices.length * (plan.width - 1);
  const loss = lossSum / bytes;
  return {
    bitsPerByte: loss / Math.LN2,
    loss,
    accuracy: correct / bytes,
    bytes,
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
  let lossSum = 0;
  let correct = 0;
  for (const scores of passScores(model, params, dataset, plan)) {
    lossSum += scores.lossSum.dataSync()[0] as number;
    correct += scores.correct.dataSync()[0] as number;
  }
  return bitsPerByteResult(lossSum, correct, plan);
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
  let lossSum = 0;
  let correct = 0;
  for (const scores of passScores(model, params, dataset, plan)) {
    lossSum += (await scores.lossSum.data())[0] as number;
    correct += (await scores.correct.data())[0] as number;
  }
  return bitsPerByteResult(lossSum, correct, plan);
}

/**
 * Mean next-byte loss (nats) and next-byte accuracy over every position of the windows of
 * `batch` (e.g. a validator's validation batch of training windows), computed in passes of at
 * most {@link MAX_WINDOWS_PER_PASS} windows so that a large batch fits the wasm heap. `samples`
 * counts windows. The batch's `y` (each window's last byte) is among the targets already.
 *
 * @example
 * const { loss } = evaluateByteWindows(model, params, dataset.batch("train", [0, 1, 2]));
 */
export function evaluateByteWindows(
  model: ByteTransformer,
  params: Float32Array,
  batch: Batch,
): { loss: number; accuracy: number; samples: number } {
  const width = model.spec.inputSize;
  if (batch.size < 1 || batch.x.length !== batch.size * width) {
    throw new ProtolearnError(
      `a batch of ${batch.size} examples with ${batch.x.length} values is not a batch of ${width}-byte windows for ${model.spec.id}`,
      {
        code: "TRAIN_MODEL_DATA_MISMATCH",
        fix: "use a byte-window dataset with the model's context length",
      },
    );
  }
  const tensors = unflattenParams(model.spec, params);
  let lossSum = 0;
  let correct = 0;
  try {
    for (let start = 0; start < batch.size; start += MAX_WINDOWS_PER_PASS) {
      const size = Math.min(MAX_WINDOWS_PER_PASS, batch.size - start);
      const scores = tf.tidy(() =>
        windowScores(
          model,
          tensors,
          tf.tensor2d(batch.x.subarray(start * width, (start + size) * width), [size, width]),
        ),
      );
      try {
        lossSum += scores.lossSum.dataSync()[0] as number;
        correct += scores.correct.dataSync()[0] as number;
      } finally {
        tf.dispose([scores.lossSum, scores.correct]);
      }
    }
  } finally {
    tf.dispose(tensors);
  }
  const bytes = batch.size * (width - 1);
  return { loss: lossSum / bytes, accuracy: correct / bytes, samples: batch.size };
}
