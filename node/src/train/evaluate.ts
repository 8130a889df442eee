import * as tf from "@tensorflow/tfjs-core";

import type { Batch, Dataset, Split } from "../data/dataset.js";
import { rangeIndices } from "../data/dataset.js";
import type { Model } from "../model/model.js";
import { unflattenParams } from "../model/params.js";

/** Loss and accuracy of a parameter vector over some examples. */
export interface Evaluation {
  /** Mean softmax cross-entropy. */
  loss: number;
  /** Share of examples whose arg-max logit is the label. */
  accuracy: number;
  /** Examples evaluated. */
  samples: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** @default "eval" */
  split?: Split;
  /** Examples per forward pass. @default 500 */
  batchSize?: number;
  /** Evaluate only the first `limit` examples of the split. @default the whole split */
  limit?: number;
}

/** Sum of per-example losses and number of correct predictions of one batch, as tensors. */
function scoreTensors(
  model: Model,
  params: readonly tf.Tensor[],
  batch: Batch,
): { lossSum: tf.Scalar; correct: tf.Scalar } {
  return tf.tidy(() => {
    const x = tf.tensor2d(batch.x, [batch.size, model.spec.inputSize]);
    const y = tf.tensor1d(batch.y, "int32");
    const logits = model.logits(params, x);
    const logProbs = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(y, model.spec.numClasses)), 1);
    const lossSum = tf.neg(tf.sum(picked)) as tf.Scalar;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "int32")) as tf.Scalar;
    return { lossSum, correct };
  });
}

/** Sum of per-example losses and number of correct predictions of one batch (params already uploaded). */
function scoreBatch(
  model: Model,
  params: readonly tf.Tensor[],
  batch: Batch,
): { lossSum: number; correct: number } {
  const t = scoreTensors(model, params, batch);
  try {
    return {
      lossSum: t.lossSum.dataSync()[0] as number,
      correct: t.correct.dataSync()[0] as number,
    };
  } finally {
    tf.dispose([t.lossSum, t.correct]);
  }
}

/** Loss and accuracy of `params` on one batch, e.g. a validator's check of an update on a trainer's shard. */
export function evaluateBatch(model: Model, params: Float32Array, batch: Batch): Evaluation {
  const tensors = unflattenParams(model.spec, params);
  try {
    const { lossSum, correct } = scoreBatch(model, tensors, batch);
    return { loss: lossSum / batch.size, accuracy: correct / batch.size, samples: batch.size };
  } finally {
    tf.dispose(tensors);
  }
}

/**
 * Loss and accuracy of `params` on a dataset split (by default the held-out one). Runs on the
 * active backend, so the numbers can differ in the last bits between backends: they are
 * reported (`evalLoss`), not hashed.
 */
export function evaluate(
  model: Model,
  params: Float32Array,
  dataset: Dataset,
  options: EvaluateOptions = {},
): Evaluation {
  const total = evaluationTotal(dataset, options);
  const tensors = unflattenParams(model.spec, params);
  let lossSum = 0;
  let correct = 0;
  try {
    for (const batch of evaluationBatches(dataset, options)) {
      const scored = scoreBatch(model, tensors, batch);
      lossSum += scored.lossSum;
      correct += scored.correct;
    }
  } finally {
    tf.dispose(tensors);
  }
  return evaluation(lossSum, correct, total);
}

/**
 * {@link evaluate} with asynchronous reads: the same numbers, and it also runs on the webgpu
 * backend, which cannot read synchronously under Node (docs/training.md).
 */
export async function evaluateAsync(
  model: Model,
  params: Float32Array,
  dataset: Dataset,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const total = evaluationTotal(dataset, options);
  const tensors = unflattenParams(model.spec, params);
  let lossSum = 0;
  let correct = 0;
  try {
    for (const batch of evaluationBatches(dataset, options)) {
      const t = scoreTensors(model, tensors, batch);
      try {
        lossSum += (await t.lossSum.data())[0] as number;
        correct += (await t.correct.data())[0] as number;
      } finally {
        tf.dispose([t.lossSum, t.correct]);
      }
    }
  } finally {
    tf.dispose(tensors);
  }
  return evaluation(lossSum, correct, total);
}

/** How many examples of the split an evaluation scores. */
function evaluationTotal(dataset: Dataset, options: EvaluateOptions): number {
  const split: Split = options.split ?? "eval";
  return Math.min(options.limit ?? dataset.size[split], dataset.size[split]);
}

/** The batches both evaluations score, in order: the first `evaluationTotal` examples of the split. */
function* evaluationBatches(dataset: Dataset, options: EvaluateOptions): Generator<Batch> {
  const split: Split = options.split ?? "eval";
  const batchSize = options.batchSize ?? 500;
  const total = evaluationTotal(dataset, options);
  for (let start = 0; start < total; start += batchSize) {
    yield dataset.batch(split, rangeIndices(start, Math.min(batchSize, total - start), total));
  }
}

function evaluation(lossSum: number, correct: number, total: number): Evaluation {
  return {
    loss: total === 0 ? Number.NaN : lossSum / total,
    accuracy: total === 0 ? Number.NaN : correct / total,
    samples: total,
  };
}
