import * as tf from "@tensorflow/tfjs-core";

import { ProtolearnError } from "../errors.js";
import type { LossAndGradients, Model } from "./model.js";
import type { ModelSpec, ParamSpec } from "./spec.js";

/** Options of {@link createMlp}. */
export interface MlpOptions {
  /** Model id; it names the layout, so change it whenever the layer sizes change. */
  id: string;
  /** Layer widths from input to output, e.g. `[784, 256, 10]`; hidden layers use ReLU. */
  layers: readonly number[];
}

/** The layout of a dense ReLU MLP: `dense{i}/kernel [in, out]` (He-/Glorot-uniform) and `dense{i}/bias [out]` (zeros). */
export function mlpSpec(options: MlpOptions): ModelSpec {
  const { id, layers } = options;
  if (layers.length < 2 || layers.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new ProtolearnError(`MLP ${id}: layer sizes ${JSON.stringify(layers)} are not valid`, {
      code: "MODEL_BAD_LAYERS",
      fix: "give at least an input and an output width, each a positive integer",
    });
  }
  const params: ParamSpec[] = [];
  for (let i = 0; i + 1 < layers.length; i++) {
    const fanIn = layers[i] as number;
    const fanOut = layers[i + 1] as number;
    const isOutput = i + 2 === layers.length;
    // He-uniform before a ReLU, Glorot-uniform for the linear output layer.
    const limit = isOutput ? Math.sqrt(6 / (fanIn + fanOut)) : Math.sqrt(6 / fanIn);
    params.push({
      name: `dense${i}/kernel`,
      shape: [fanIn, fanOut],
      init: { kind: "uniform", limit },
      decay: true,
    });
    params.push({ name: `dense${i}/bias`, shape: [fanOut], init: { kind: "zeros" }, decay: false });
  }
  return {
    id,
    inputSize: layers[0] as number,
    numClasses: layers[layers.length - 1] as number,
    params,
  };
}

/** Kernel and bias of layer `i`. */
function layer(params: readonly tf.Tensor[], i: number): { w: tf.Tensor2D; b: tf.Tensor1D } {
  return { w: params[2 * i] as tf.Tensor2D, b: params[2 * i + 1] as tf.Tensor1D };
}

/**
 * A dense ReLU MLP with a hand-written backward pass.
 *
 * Why not autodiff: the gradient of `x·W` is `xᵀ·dY` and `dY·Wᵀ`, and autodiff issues those as
 * matMuls with a transposed operand. On the wasm backend such a matMul runs several times
 * slower than a plain one (docs/training.md has the figures), so the backward pass here
 * transposes operands explicitly with `tf.transpose` (an O(n²) copy, cheap next to the O(n³)
 * product) and every matMul it issues is plain.
 */
export function createMlp(options: MlpOptions): Model {
  const spec = mlpSpec(options);
  const depth = options.layers.length - 1;

  function logits(params: readonly tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      for (let i = 0; i < depth; i++) {
        const { w, b } = layer(params, i);
        h = tf.fused.matMul({
          a: h,
          b: w,
          bias: b,
          activation: i + 1 < depth ? "relu" : "linear",
        }) as tf.Tensor2D;
      }
      return h;
    });
  }

  function lossAndGradients(
    params: readonly tf.Tensor[],
    x: tf.Tensor2D,
    labels: tf.Tensor1D,
  ): LossAndGradients {
    return tf.tidy(() => {
      const batch = x.shape[0];
      // Forward, keeping each layer's input (activations[i] feeds layer i).
      const activations: tf.Tensor2D[] = [x];
      let out = x;
      for (let i = 0; i < depth; i++) {
        const { w, b } = layer(params, i);
        out = tf.fused.matMul({
          a: out,
          b: w,
          bias: b,
          activation: i + 1 < depth ? "relu" : "linear",
        }) as tf.Tensor2D;
        if (i + 1 < depth) activations.push(out);
      }
      const logProbs = tf.logSoftmax(out);
      // (oneHot's own float32 dtype argument is ignored by the wasm kernel, hence the cast.)
      const targets = tf.cast(tf.oneHot(labels, spec.numClasses), "float32");
      const invBatch = tf.scalar(1 / batch);
      const loss = tf.mul(tf.sum(tf.mul(targets, logProbs)), tf.neg(invBatch)) as tf.Scalar;

      // d(mean CE)/d(logits) = (softmax − onehot) / batch.
      let delta = tf.mul(tf.sub(tf.exp(logProbs), targets), invBatch) as tf.Tensor2D;
      const gradients: tf.Tensor[] = new Array<tf.Tensor>(2 * depth);
      for (let i = depth - 1; i >= 0; i--) {
        const input = activations[i] as tf.Tensor2D;
        gradients[2 * i] = tf.matMul(tf.transpose(input), delta);
        gradients[2 * i + 1] = tf.sum(delta, 0);
        if (i > 0) {
          const { w } = layer(params, i);
          // ReLU'(z) = 1 where the layer's output is positive; the output is `input` here.
          delta = tf.mul(tf.matMul(delta, tf.transpose(w)), tf.step(input));
        }
      }
      return { loss, gradients };
    });
  }

  return { spec, logits, lossAndGradients };
}

/** Options of the default MNIST MLP. */
export const MNIST_MLP_LAYERS = [784, 256, 10] as const;

/** The default task's model: `mnist-mlp-v1`, a 784-256-10 ReLU MLP (203,530 parameters). */
export function createMnistMlp(): Model {
  return createMlp({ id: "mnist-mlp-v1", layers: MNIST_MLP_LAYERS });
}
