import * as tf from "@tensorflow/tfjs-core";
// tfjs-core registers no gradient functions of its own; the union package's Node bundle does
// (into the same global registry). tfjs-core's ESM `register_all_gradients` cannot be imported
// under Node (directory imports), so this side-effect import is the supported route.
import "@tensorflow/tfjs";

import type { ModelSpec } from "./spec.js";

/** Loss and gradients of one batch, each gradient shaped like its parameter (spec order). */
export interface LossAndGradients {
  /** Mean softmax cross-entropy over the batch. */
  loss: tf.Scalar;
  gradients: tf.Tensor[];
}

/**
 * A trainable classifier: a parameter layout plus forward and backward passes written with
 * TensorFlow.js ops, so they run on whichever backend is active. Parameters are passed in, never
 * held, so the same model object serves every node, validator and test.
 */
export interface Model {
  readonly spec: ModelSpec;
  /** Logits `[batch, numClasses]` for inputs `x: [batch, inputSize]`. */
  logits(params: readonly tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D;
  /** Mean cross-entropy of `x` against integer `labels: [batch]` and its gradients. */
  lossAndGradients(
    params: readonly tf.Tensor[],
    x: tf.Tensor2D,
    labels: tf.Tensor1D,
  ): LossAndGradients;
}

/** Mean softmax cross-entropy of `logits` against one-hot `targets` (a scalar). */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar,
  );
}

/**
 * Loss and gradients by TensorFlow.js autodiff (`tf.valueAndGrads`) over `model.logits`. Used by
 * the models whose backward pass is not written out, and as the reference that the manual
 * gradients are tested against.
 */
export function autodiffLossAndGradients(
  model: Pick<Model, "spec" | "logits">,
  params: readonly tf.Tensor[],
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
): LossAndGradients {
  return tf.tidy(() => {
    const targets = tf.cast(tf.oneHot(labels, model.spec.numClasses), "float32") as tf.Tensor2D;
    const f = (...ps: tf.Tensor[]): tf.Scalar => softmaxCrossEntropy(model.logits(ps, x), targets);
    const { value, grads } = tf.valueAndGrads(f)([...params]);
    return { loss: value, gradients: grads };
  });
}
