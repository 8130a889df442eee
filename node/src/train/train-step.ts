import * as tf from "@tensorflow/tfjs-core";

import type { Batch } from "../data/dataset.js";
import type { Model } from "../model/model.js";
import type { AdamW } from "./adamw.js";

/** What one {@link trainStep} produced. */
export interface TrainStepResult {
  /** The parameters after the step (new tensors; the ones passed in are disposed). */
  params: tf.Tensor[];
  /** The batch's mean loss before the update; the caller owns (and disposes) it. */
  loss: tf.Scalar;
}

/**
 * One training step on one batch: forward and backward pass (`model.lossAndGradients`), then one
 * AdamW update. The single definition of a step, shared by the DiLoCo inner loop and the dense
 * DDP baseline of the simulation, so both take bit-identical steps on the same batch.
 *
 * Disposes `params` and the step's inputs and gradients; the loss is left unread, so a loop of
 * steps never syncs with the backend.
 *
 * @example
 * ({ params, loss } = trainStep(model, optimizer, params, dataset.batch("train", indices)));
 */
export function trainStep(
  model: Model,
  optimizer: AdamW,
  params: readonly tf.Tensor[],
  batch: Batch,
): TrainStepResult {
  const x = tf.tensor2d(batch.x, [batch.size, model.spec.inputSize]);
  const y = tf.tensor1d(batch.y, "int32");
  const { loss, gradients } = model.lossAndGradients(params, x, y);
  tf.dispose([x, y]);
  const next = optimizer.step(params, gradients);
  tf.dispose(gradients);
  return { params: next, loss };
}
