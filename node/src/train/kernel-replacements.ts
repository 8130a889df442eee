import * as tf from "@tensorflow/tfjs-core";

/** Builds the replacement of one registered kernel from the backend's original. */
export type KernelReplacement = (original: tf.KernelConfig, backendName: string) => tf.KernelFunc;

/** A set of kernel replacements that can be put in and taken out per backend. */
export interface KernelReplacements {
  /** Replaces the kernels on `backendName` if it is one of the set's backends; idempotent. Returns whether they are in place. */
  install(backendName: string): boolean;
  /** Puts the backend's own kernels back (benchmarks and tests compare both). */
  uninstall(backendName: string): void;
}

/**
 * Kernel replacements for `backends`: `install` swaps each named kernel in TensorFlow.js's
 * registry for the function `replacements[name]` builds around the original (kernels are
 * registered per backend, so only those backends are touched), and keeps the originals for
 * `uninstall`. Kernels a backend does not have are skipped.
 *
 * @example
 * const set = kernelReplacements(["wasm"], { [tf.Sum]: (original) => (args) => original.kernelFunc(args) });
 * set.install("wasm"); // true
 */
export function kernelReplacements(
  backends: readonly string[],
  replacements: Readonly<Record<string, KernelReplacement>>,
): KernelReplacements {
  const originals = new Map<string, tf.KernelConfig[]>();
  return {
    install(backendName) {
      if (!backends.includes(backendName)) return false;
      if (originals.has(backendName)) return true;
      const saved: tf.KernelConfig[] = [];
      for (const [name, replace] of Object.entries(replacements)) {
        const original = tf.getKernel(name, backendName);
        if (original === undefined) continue;
        saved.push(original);
        tf.unregisterKernel(name, backendName);
        tf.registerKernel({ ...original, kernelFunc: replace(original, backendName) });
      }
      originals.set(backendName, saved);
      return true;
    },
    uninstall(backendName) {
      const saved = originals.get(backendName);
      if (saved === undefined) return;
      for (const original of saved) {
        tf.unregisterKernel(original.kernelName, backendName);
        tf.registerKernel(original);
      }
      originals.delete(backendName);
    },
  };
}
