import * as tf from "@tensorflow/tfjs-core";
import { z } from "zod";

import type { ModelSpec } from "../model/spec.js";
import { hasHeap, type HeapBackend } from "./heap-kernels.js";

/** AdamW hyper-parameters (Loshchilov & Hutter), validated at the edge with this schema. */
export const adamWOptionsSchema = z.object({
  /** @default 1e-3 */
  learningRate: z.number().positive().finite().default(1e-3),
  /** @default 0.9 */
  beta1: z.number().min(0).lt(1).default(0.9),
  /** @default 0.999 */
  beta2: z.number().min(0).lt(1).default(0.999),
  /** @default 1e-8 */
  epsilon: z.number().positive().finite().default(1e-8),
  /** Decoupled weight decay, applied to tensors whose spec has `decay: true` (kernels). @default 0.01 */
  weightDecay: z.number().min(0).finite().default(0.01),
});
export type AdamWOptions = z.output<typeof adamWOptionsSchema>;

/** An AdamW optimizer over one set of parameter tensors; it owns its moment tensors. */
export interface AdamW {
  /** Steps taken so far. */
  readonly steps: number;
  /**
   * One update: returns the new parameters and disposes `params` (the caller keeps ownership of
   * `gradients`).
   */
  step(params: readonly tf.Tensor[], gradients: readonly tf.Tensor[]): tf.Tensor[];
  /** Frees the moments and constants. */
  dispose(): void;
}

/**
 * Largest tensor (values) that the fused update takes where it is available. A fused pass costs
 * ~5 ns per value in JavaScript (each operation rounded to float32); the op arrangement costs
 * ~4 ns per value plus ~40 µs of dispatch per tensor on wasm, so below ~8k values the fused pass
 * wins (bench:train: mnist-cnn-v1's 11,274 values 0.26 → 0.09 ms) and above it the ops do.
 */
export const FUSED_ADAMW_MAX_VALUES = 8192;

/**
 * AdamW (Loshchilov & Hutter) on the active backend, in Kingma & Ba's "efficient" arrangement
 * that folds both bias corrections into the step size and epsilon:
 *
 * ```
 * m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 * θ ← (1 − lr·λ)·θ − lr_t · m / (√v + ε_t),   lr_t = lr·√(1−β2^t)/(1−β1^t),  ε_t = ε·√(1−β2^t)
 * ```
 *
 * which equals `θ − lr·(m̂/(√v̂+ε) + λθ)` with bias-corrected `m̂`, `v̂`. `λ` applies to tensors
 * whose spec says `decay: true` (kernels, not biases).
 *
 * Two arrangements of the same float32 operations, bit for bit (`test/node/train.test.ts` pins
 * the bits), chosen per tensor: on a backend whose heap can be read in place (wasm, see
 * `heap-kernels.ts`), a tensor of at most {@link FUSED_ADAMW_MAX_VALUES} values is updated in
 * one fused pass over heap views, its moments in typed arrays; every other tensor by about ten
 * TensorFlow.js ops, with constant scalars uploaded once.
 */
export function createAdamW(
  spec: ModelSpec,
  params: readonly tf.Tensor[],
  options: AdamWOptions,
): AdamW {
  const { learningRate: lr, beta1, beta2, epsilon, weightDecay } = options;
  const backend = tf.backend();
  const heap = hasHeap(backend) ? backend : undefined;
  const fused = params.map(
    (p) => heap !== undefined && p.dtype === "float32" && p.size <= FUSED_ADAMW_MAX_VALUES,
  );
  const decays = params.map((_, i) => spec.params[i]?.decay === true && weightDecay > 0);
  // Moments: typed arrays for fused tensors, tensors for the others.
  const fusedMoments = params.map((p, i) =>
    fused[i] === true ? { m: new Float32Array(p.size), v: new Float32Array(p.size) } : undefined,
  );
  let m = params.map((p, i) => (fused[i] === true ? undefined : tf.zerosLike(p)));
  let v = params.map((p, i) => (fused[i] === true ? undefined : tf.zerosLike(p)));
  const constants = {
    beta1: tf.scalar(beta1),
    oneMinusBeta1: tf.scalar(1 - beta1),
    beta2: tf.scalar(beta2),
    oneMinusBeta2: tf.scalar(1 - beta2),
    keep: tf.scalar(1 - lr * weightDecay),
  };
  const f = Math.fround;
  const b1 = f(beta1);
  const oneMinusB1 = f(1 - beta1);
  const b2 = f(beta2);
  const oneMinusB2 = f(1 - beta2);
  const keep = f(1 - lr * weightDecay);
  let steps = 0;

  /** One tensor's fused update: each operation rounded to float32 as the op kernels round it. */
  function fusedStep(i: number, p: tf.Tensor, g: tf.Tensor, lrT: number, epsT: number): tf.Tensor {
    const h = heap as HeapBackend;
    const moments = fusedMoments[i] as { m: Float32Array; v: Float32Array };
    const out = h.makeOutput([...p.shape], "float32");
    // Views after the allocation: growing the heap detaches earlier ones.
    const theta = h.typedArrayFromHeap(p);
    const grad = h.typedArrayFromHeap(g);
    const into = h.typedArrayFromHeap(out);
    const mi = moments.m;
    const vi = moments.v;
    const decay = decays[i] === true;
    for (let j = 0; j < into.length; j++) {
      const gj = grad[j] as number;
      const mj = f(f((mi[j] as number) * b1) + f(gj * oneMinusB1));
      const vj = f(f((vi[j] as number) * b2) + f(f(gj * gj) * oneMinusB2));
      mi[j] = mj;
      vi[j] = vj;
      const th = decay ? f((theta[j] as number) * keep) : (theta[j] as number);
      into[j] = f(th - f(f(mj / f(f(Math.sqrt(vj)) + epsT)) * lrT));
    }
    return tf.engine().makeTensorFromTensorInfo(out);
  }

  return {
    get steps() {
      return steps;
    },
    step(current, gradients) {
      steps += 1;
      const c2 = Math.sqrt(1 - beta2 ** steps);
      const lrT = (lr * c2) / (1 - beta1 ** steps);
      const epsT = epsilon * c2;
      const next = tf.tidy(() => {
        const lrTensor = tf.scalar(lrT);
        const epsTensor = tf.scalar(epsT);
        const out = {
          params: [] as (tf.Tensor | undefined)[],
          m: [] as (tf.Tensor | undefined)[],
          v: [] as (tf.Tensor | undefined)[],
        };
        current.forEach((p, i) => {
          if (fused[i] === true) {
            out.params.push(undefined);
            out.m.push(undefined);
            out.v.push(undefined);
            return;
          }
          const g = gradients[i] as tf.Tensor;
          const mi = tf.add(
            tf.mul(m[i] as tf.Tensor, constants.beta1),
            tf.mul(g, constants.oneMinusBeta1),
          );
          const vi = tf.add(
            tf.mul(v[i] as tf.Tensor, constants.beta2),
            tf.mul(tf.square(g), constants.oneMinusBeta2),
          );
          const decayed = decays[i] === true ? tf.mul(p, constants.keep) : p;
          out.params.push(
            tf.sub(decayed, tf.mul(tf.div(mi, tf.add(tf.sqrt(vi), epsTensor)), lrTensor)),
          );
          out.m.push(mi);
          out.v.push(vi);
        });
        return out as { params: tf.Tensor[]; m: tf.Tensor[]; v: tf.Tensor[] };
      });
      const params = current.map((p, i) =>
        fused[i] === true
          ? fusedStep(i, p, gradients[i] as tf.Tensor, f(lrT), f(epsT))
          : (next.params[i] as tf.Tensor),
      );
      tf.dispose([
        ...current,
        ...m.filter((t) => t !== undefined),
        ...v.filter((t) => t !== undefined),
      ]);
      m = next.m;
      v = next.v;
      return params;
    },
    dispose() {
      tf.dispose([
        ...m.filter((t) => t !== undefined),
        ...v.filter((t) => t !== undefined),
        ...Object.values(constants),
      ]);
    },
  };
}
