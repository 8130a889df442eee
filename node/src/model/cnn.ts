import * as tf from "@tensorflow/tfjs-core";

import { autodiffLossAndGradients, type Model } from "./model.js";
import type { ModelSpec } from "./spec.js";

const SIDE = 28;
const KERNEL = 5;
const C1 = 8;
const C2 = 16;
const FLAT = (SIDE / 4) * (SIDE / 4) * C2; // two 2×2 poolings: 7 × 7 × 16 = 784

/** `mnist-cnn-v1`: conv5×5(8)-ReLU-maxpool2 → conv5×5(16)-ReLU-maxpool2 → dense(10); 11,274 parameters. */
export function cnnSpec(): ModelSpec {
  const he = (fanIn: number): { kind: "uniform"; limit: number } => ({
    kind: "uniform",
    limit: Math.sqrt(6 / fanIn),
  });
  return {
    id: "mnist-cnn-v1",
    inputSize: SIDE * SIDE,
    numClasses: 10,
    params: [
      {
        name: "conv0/kernel",
        shape: [KERNEL, KERNEL, 1, C1],
        init: he(KERNEL * KERNEL),
        decay: true,
      },
      { name: "conv0/bias", shape: [C1], init: { kind: "zeros" }, decay: false },
      {
        name: "conv1/kernel",
        shape: [KERNEL, KERNEL, C1, C2],
        init: he(KERNEL * KERNEL * C1),
        decay: true,
      },
      { name: "conv1/bias", shape: [C2], init: { kind: "zeros" }, decay: false },
      {
        name: "dense0/kernel",
        shape: [FLAT, 10],
        init: { kind: "uniform", limit: Math.sqrt(6 / (FLAT + 10)) },
        decay: true,
      },
      { name: "dense0/bias", shape: [10], init: { kind: "zeros" }, decay: false },
    ],
  };
}

/**
 * Gradient of a stride-1 "same" convolution with respect to its filter, written as a forward
 * convolution: with the padded input seen as `[inC, H+2p, W+2p, batch]` and `dy` as a filter
 * `[H, W, batch, outC]`, a valid convolution yields `[inC, k, k, outC]`, i.e. the filter gradient
 * up to a transpose. The wasm backend has no `Conv2DBackpropFilter` kernel, so TensorFlow.js's
 * own conv2d gradient cannot run there; this one uses only kernels every backend has.
 */
function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: number): tf.Tensor4D {
  const pad = (kernel - 1) / 2;
  const padded = tf.pad(x, [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ]);
  const r = tf.conv2d(
    tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D,
    tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D,
    1,
    "valid",
  );
  return tf.transpose(r, [1, 2, 0, 3]);
}

/**
 * Gradient of a stride-1 "same" convolution (odd square kernel) with respect to its input,
 * written as a forward convolution of `dy` with the filter flipped in both spatial dimensions
 * and its channel axes swapped. TensorFlow.js's own, `conv2dTranspose`, runs the wasm backend's
 * `Conv2DBackpropInput`, a plain loop about 10× slower than the forward convolution (XNNPACK)
 * that this uses.
 */
function conv2dInputGradient(dy: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(dy, flipped, 1, "same");
}

/** A stride-1, "same"-padded conv2d (odd square kernel) whose gradients run on every backend. */
const conv2dSame = tf.customGrad((...args: (tf.Tensor | ((tensors: tf.Tensor[]) => void))[]) => {
  const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, (tensors: tf.Tensor[]) => void];
  save([x, w]);
  return {
    value: tf.conv2d(x, w, 1, "same"),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4 = dy as tf.Tensor4D;
      return [conv2dInputGradient(dy4, sw), conv2dFilterGradient(sx, dy4, sw.shape[0])];
    },
  };
}) as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

/**
 * {@link conv2dSame} over the input data: differentiable in the filter only, so the input
 * gradient of the first layer (which nothing needs) is never computed.
 */
function conv2dSameOverData(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const conv = tf.customGrad((...args: (tf.Tensor | ((tensors: tf.Tensor[]) => void))[]) => {
    const [filter, save] = args as [tf.Tensor4D, (tensors: tf.Tensor[]) => void];
    save([filter]);
    return {
      value: tf.conv2d(x, filter, 1, "same"),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        conv2dFilterGradient(x, dy as tf.Tensor4D, (saved[0] as tf.Tensor4D).shape[0]),
      ],
    };
  }) as (filter: tf.Tensor4D) => tf.Tensor4D;
  return conv(w);
}

/**
 * 2×2, stride-2 max pooling (even height and width) whose gradient goes, like TensorFlow.js's
 * `MaxPoolGrad`, to the first maximum of each window in row-major order — found with `argMax`
 * over the window's four values and scattered back with `oneHot`. The wasm backend's
 * `MaxPoolGrad` is a plain loop; these are a handful of element-wise kernels.
 */
const maxPool2 = tf.customGrad((...args: (tf.Tensor | ((tensors: tf.Tensor[]) => void))[]) => {
  const [x, save] = args as [tf.Tensor4D, (tensors: tf.Tensor[]) => void];
  save([x]);
  return {
    value: tf.maxPool(x, 2, 2, "valid"),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const sx = saved[0] as tf.Tensor4D;
      const [n, h, w, c] = sx.shape;
      // [n, h/2, 2, w/2, 2, c] → [n, h/2, w/2, c, 2, 2]: each window's values row-major, last.
      const windows = tf.reshape(
        tf.transpose(tf.reshape(sx, [n, h / 2, 2, w / 2, 2, c]), [0, 1, 3, 5, 2, 4]),
        [n, h / 2, w / 2, c, 4],
      );
      const first = tf.cast(tf.oneHot(tf.argMax(windows, 4), 4), "float32");
      const spread = tf.mul(first, tf.expandDims(dy, 4));
      return [
        tf.reshape(
          tf.transpose(tf.reshape(spread, [n, h / 2, w / 2, c, 2, 2]), [0, 1, 4, 2, 5, 3]),
          [n, h, w, c],
        ),
      ];
    },
  };
}) as (x: tf.Tensor4D) => tf.Tensor4D;

/** The small MNIST CNN, trained through autodiff with a backend-independent conv gradient. */
export function createMnistCnn(): Model {
  const spec = cnnSpec();

  function logits(params: readonly tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [k0, b0, k1, b1, w, b] = params as [
        tf.Tensor4D,
        tf.Tensor1D,
        tf.Tensor4D,
        tf.Tensor1D,
        tf.Tensor2D,
        tf.Tensor1D,
      ];
      const image = tf.reshape(x, [-1, SIDE, SIDE, 1]) as tf.Tensor4D;
      const h0 = maxPool2(tf.relu(tf.add(conv2dSameOverData(image, k0), b0)) as tf.Tensor4D);
      const h1 = maxPool2(tf.relu(tf.add(conv2dSame(h0, k1), b1)) as tf.Tensor4D);
      return tf.add(tf.matMul(tf.reshape(h1, [-1, FLAT]), w), b) as tf.Tensor2D;
    });
  }

  const model: Model = {
    spec,
    logits,
    lossAndGradients: (params, x, labels) => autodiffLossAndGradients(model, params, x, labels),
  };
  return model;
}
