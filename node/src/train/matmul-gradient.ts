import * as tf from "@tensorflow/tfjs-core";
// The union package registers the stock gradients when it is first imported; importing it here
// makes sure that has happened before ours replaces the BatchMatMul one.
import "@tensorflow/tfjs";

/** Sums `gradient` over the batch dimensions that `shape` broadcast, and gives it `shape`. */
function reduceTo(gradient: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (tf.util.arraysEqual(gradient.shape, [...shape])) return gradient;
  const axes = tf.broadcast_util.getReductionAxes([...shape], gradient.shape);
  const summed = axes.length > 0 ? tf.sum(gradient, axes) : gradient;
  return tf.reshape(summed, [...shape]);
}

/**
 * TensorFlow.js's gradient of `BatchMatMul` (tfjs-core 4.22), plus the reduction over broadcast
 * batch dimensions that the stock one lacks: for `[2, 5, 7]·[7, 4]` the stock gradient of the
 * `[7, 4]` operand comes out `[2, 7, 4]` and autodiff throws on the shape mismatch. Same formulas
 * for the four transpose combinations as the stock gradient; each operand's gradient is then
 * summed over the batch dimensions it was broadcast along. The products keep their transpose flags: on wasm, `installPlainMatMul` turns them into
 * plain ones at the kernel, where every other caller benefits too.
 */
export const batchMatMulGradConfig: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const { transposeA, transposeB } = attrs as unknown as {
      transposeA: boolean;
      transposeB: boolean;
    };
    const dyT = dy as tf.Tensor;
    let da: () => tf.Tensor;
    let db: () => tf.Tensor;
    if (!transposeA && !transposeB) {
      da = () => tf.matMul(dyT, b, false, true);
      db = () => tf.matMul(a, dyT, true, false);
    } else if (!transposeA && transposeB) {
      da = () => tf.matMul(dyT, b, false, false);
      db = () => tf.matMul(dyT, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => tf.matMul(b, dyT, false, true);
      db = () => tf.matMul(a, dyT, false, false);
    } else {
      da = () => tf.matMul(b, dyT, true, true);
      db = () => tf.matMul(dyT, a, true, true);
    }
    return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
  },
};

/**
 * Registers {@link batchMatMulGradConfig} in TensorFlow.js's global gradient registry (for every
 * backend; it only adds a reduction where the stock gradient would throw). Idempotent;
 * `selectBackend` calls it.
 */
export function registerMatMulGradient(): void {
  if (tf.getGradient(tf.BatchMatMul) === batchMatMulGradConfig) return;
  tf.registerGradient(batchMatMulGradConfig);
}
