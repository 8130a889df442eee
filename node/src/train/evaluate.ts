import * as tf from "@tensorflow/tfjs-core";

import type { Batch, Dataset, Split } from "../data/dataset.js";
import { rangeIndices } from "../data/dataset.js";
import {
  evaluateBitsPerByte,
  evaluateBitsPerByteAsync,
  evaluateByteWindows,
  type BitsPerByte,
} from "../model/bits-per-byte.js";
import type { Model } from "../model/model.js";
import { unflattenParams } from "../model/params.js";
import { isByteTransformer } from "../model/transformer.js";

/**
 * Loss and accuracy of a parameter vector over some examples.
 *
 * For a byte-level language model (`isByteTransformer`) `evaluate` scores every position of a
 * fixed set of held-out windows (`evaluateBitsPerByte`): `loss` is then the cross-entropy in
 * **bits per byte** — the held-out number a validator attests on chain for an LM run (issue 12) —
 * `accuracy` the share of bytes predicted exactly (arg-max) and `samples` the windows scored.
 */
export interface Evaluation {
  /** Mean softmax cross-entropy: nats for a classifier, bits per byte from `evaluate` on a language model. */
  loss: number;
  /** Share of examples whose arg-max logit is the label (language model: of predicted bytes). */
  accuracy: number;
  /** Examples evaluated (language model: windows). */
  samples: number;
  /** Language model only: held-out bits per byte (equal to `loss` from `evaluate`). */
  bitsPerByte?: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** @default "eval" */
  split?: Split;
  /** Examples per forward pass. @default 500 (a language model: windows, at most 32, @default 8) */
  batchSize?: number;
  /**
   * Evaluate only the first `limit` examples of the split. @default the whole split. A language
   * model scores `limit` windows spread evenly over the split (@default DEFAULT_BPB_WINDOWS, 32).
   */
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

/**
 * Loss and accuracy of `params` on one batch, e.g. a validator's check of an update on a trainer's
 * shard. A language model's loss is the mean next-byte cross-entropy in nats over every position
 * of the batch's windows (the loss its trainers descend: `lossAndGradients`), computed in passes
 * of at most 32 windows.
 */
export function evaluateBatch(model: Model, params: Float32Array, batch: Batch): Evaluation {
  if (isByteTransformer(model)) return evaluateByteWindows(model, params, batch);
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
 * reported (`evalLoss`), not hashed. A language model reports bits per byte as its loss (see
 * {@link Evaluation}).
 */
export function evaluate(
  model: Model,
  params: Float32Array,
  dataset: Dataset,
  options: EvaluateOptions = {},
): Evaluation {
  if (isByteTransformer(model)) {
    return languageModelEvaluation(
      evaluateBitsPerByte(model, params, dataset, bitsPerByteOptions(options)),
    );
  }
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
  if (isByteTransformer(model)) {
    return languageModelEvaluation(
      await evaluateBitsPerByteAsync(model, params, dataset, bitsPerByteOptions(options)),
    );
  }
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

/** A language model's evaluation options: `limit` windows spread over the split, `batchSize` windows per pass. */
function bitsPerByteOptions(options: EvaluateOptions): {
  split?: Split;
  windows?: number;
  batchSize?: number;
} {
  return {
    ...(options.split === undefined ? {} : { split: options.split }),
    ...(options.limit === undefined ? {} : { windows: options.limit }),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
  };
}

function languageModelEvaluation(score: BitsPerByte): Evaluation {
  return {
    loss: score.bitsPerByte,
    accuracy: score.accuracy,
    samples: score.windows,
    bitsPerByte: score.bitsPerByte,
  };
}
