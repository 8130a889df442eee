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

/** Sum of per-example losses and number of correct predictions of one batch (params already uploaded). */
function scoreBatch(
  model: Model,
  params: readonly tf.Tensor[],
  batch: Batch,
): { lossSum: number; correct: number } {
  return tf.tidy(() => {
    const x = tf.tensor2d(batch.x, [batch.size, model.spec.inputSize]);
    const y = tf.tensor1d(batch.y, "int32");
    const logits = model.logits(params, x);
    const logProbs = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(y, model.spec.numClasses)), 1);
    const lossSum = -(tf.sum(picked).dataSync()[0] as number);
    const correct = tf
      .sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "int32"))
      .dataSync()[0] as number;
    return { lossSum, correct };
  });
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
  const split = options.split ?? "eval";
  const batchSize = options.batchSize ?? 500;
  const total = Math.min(options.limit ?? dataset.size[split], dataset.size[split]);
  const tensors = unflattenParams(model.spec, params);
  let lossSum = 0;
  let correct = 0;
  try {
    for (let start = 0; start < total; start += batchSize) {
      const batch = dataset.batch(
        split,
        rangeIndices(start, Math.min(batchSize, total - start), total),
      );
      const scored = scoreBatch(model, tensors, batch);
      lossSum += scored.lossSum;
      correct += scored.correct;
    }
  } finally {
    tf.dispose(tensors);
  }
  return {
    loss: total === 0 ? Number.NaN : lossSum / total,
    accuracy: total === 0 ? Number.NaN : correct / total,
    samples: total,
  };
}
