import * as tf from "@tensorflow/tfjs-core";
import { z } from "zod";

import type { ModelSpec } from "../model/spec.js";

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
 * AdamW (Loshchilov & Hutter) on the active backend, in Kingma & Ba's "efficient" arrangement
 * that folds both bias corrections into the step size and epsilon:
 *
 * ```
 * m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 * θ ← (1 − lr·λ)·θ − lr_t · m / (√v + ε_t),   lr_t = lr·√(1−β2^t)/(1−β1^t),  ε_t = ε·√(1−β2^t)
 * ```
 *
 * which equals `θ − lr·(m̂/(√v̂+ε) + λθ)` with bias-corrected `m̂`, `v̂`. `λ` applies to tensors
 * whose spec says `decay: true` (kernels, not biases). Constant scalars are uploaded once, which
 * matters on wasm, where each op on a 200k-value tensor costs only tens of microseconds.
 */
export function createAdamW(
  spec: ModelSpec,
  params: readonly tf.Tensor[],
  options: AdamWOptions,
): AdamW {
  const { learningRate: lr, beta1, beta2, epsilon, weightDecay } = options;
  let m = params.map((p) => tf.zerosLike(p));
  let v = params.map((p) => tf.zerosLike(p));
  const constants = {
    beta1: tf.scalar(beta1),
    oneMinusBeta1: tf.scalar(1 - beta1),
    beta2: tf.scalar(beta2),
    oneMinusBeta2: tf.scalar(1 - beta2),
    keep: tf.scalar(1 - lr * weightDecay),
  };
  let steps = 0;
  return {
    get steps() {
      return steps;
    },
    step(current, gradients) {
      steps += 1;
      const c2 = Math.sqrt(1 - beta2 ** steps);
      const next = tf.tidy(() => {
        const lrT = tf.scalar((lr * c2) / (1 - beta1 ** steps));
        const epsT = tf.scalar(epsilon * c2);
        const out = { params: [] as tf.Tensor[], m: [] as tf.Tensor[], v: [] as tf.Tensor[] };
        current.forEach((p, i) => {
          const g = gradients[i] as tf.Tensor;
          const mi = tf.add(
            tf.mul(m[i] as tf.Tensor, constants.beta1),
            tf.mul(g, constants.oneMinusBeta1),
          );
          const vi = tf.add(
            tf.mul(v[i] as tf.Tensor, constants.beta2),
            tf.mul(tf.square(g), constants.oneMinusBeta2),
          );
          const decayed =
            spec.params[i]?.decay === true && weightDecay > 0 ? tf.mul(p, constants.keep) : p;
          out.params.push(tf.sub(decayed, tf.mul(tf.div(mi, tf.add(tf.sqrt(vi), epsT)), lrT)));
          out.m.push(mi);
          out.v.push(vi);
        });
        return out;
      });
      tf.dispose([...current, ...m, ...v]);
      m = next.m;
      v = next.v;
      return next.params;
    },
    dispose() {
      tf.dispose([...m, ...v, ...Object.values(constants)]);
    },
  };
}
