import * as tf from "@tensorflow/tfjs-core";

/**
 * The backends whose matMul kernels get the {@link installPlainMatMul} wrapper. Only wasm: on
 * the cpu backend a transposed operand costs nothing extra and the explicit copy only adds time
 * (docs/training.md, "Performance"); the native backends hand the flags to their BLAS.
 */
export const PLAIN_MATMUL_BACKENDS: readonly string[] = ["wasm"];

/** The matMul kernels that take `transposeA`/`transposeB` and operands `a` and `b`. */
const MATMUL_KERNELS = [tf.BatchMatMul, tf._FusedMatMul] as const;

/** Per backend: the kernels it had before the wrapper, to put back by {@link uninstallPlainMatMul}. */
const originals = new Map<string, tf.KernelConfig[]>();

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** The last two dimensions swapped. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * A matMul kernel that hands the backend's own kernel plain operands wherever that reaches its
 * fast path: a transposed operand is first copied by the backend's Transpose kernel, and a
 * batched left operand against a right operand without batch (`[..., m, k]·[k, n]`, a dense
 * layer over a sequence) is multiplied as one `[(...)·m, k]·[k, n]` product. Products with a
 * batch on the right go to the original kernel as they are. Both compute the same products as the original kernel,
 * in a layout its fast path accepts; results agree within float32 rounding.
 */
function plainMatMulKernel(original: tf.KernelConfig, backendName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const attrs = args.attrs as unknown as MatMulAttrs;
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    // The fast path takes one matrix per operand. A batch on the left against one matrix can be
    // flattened (BatchMatMul only: _FusedMatMul's wasm kernel wants rank-3 operands); a batch on
    // the right cannot, and copying its operands would only add time to the slow loop.
    const isBatchMatMul = original.kernelName === tf.BatchMatMul;
    const reachesFastPath = batchB === 1 && (batchA === 1 || isBatchMatMul);
    const flattenA = isBatchMatMul && batchA > 1 && batchB === 1;
    if (!reachesFastPath || (!attrs.transposeA && !attrs.transposeB && !flattenA)) {
      return original.kernelFunc(args);
    }

    const transpose = tf.getKernel(tf.Transpose, backendName);
    const reshape = tf.getKernel(tf.Reshape, backendName);
    if (transpose === undefined || reshape === undefined) return original.kernelFunc(args);
    const temporaries: tf.TensorInfo[] = [];
    const plain = (x: tf.TensorInfo, transposed: boolean): tf.TensorInfo => {
      if (!transposed) return x;
      const out = transpose.kernelFunc({
        inputs: { x },
        backend,
        attrs: { perm: swapLastTwo(x.shape.length) },
      }) as tf.TensorInfo;
      temporaries.push(out);
      return out;
    };
    let plainA = plain(a, attrs.transposeA);
    const plainB = plain(b, attrs.transposeB);
    const m = plainA.shape[plainA.shape.length - 2] as number;
    const n = plainB.shape[plainB.shape.length - 1] as number;
    const outShape = [
      ...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)),
      m,
      n,
    ];
    if (flattenA) {
      const k = plainA.shape[plainA.shape.length - 1] as number;
      plainA = reshape.kernelFunc({
        inputs: { x: plainA },
        backend,
        attrs: { shape: [batchA * m, k] },
      }) as tf.TensorInfo;
      temporaries.push(plainA);
    }
    try {
      const out = original.kernelFunc({
        ...args,
        inputs: { ...inputs, a: plainA, b: plainB },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
      // The kernels themselves set the output shape this way after a rank-3 computation.
      (out as { shape: number[] }).shape = outShape;
      return out;
    } finally {
      for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
    }
  };
}

/**
 * Makes the `BatchMatMul` and `_FusedMatMul` kernels of `backendName` avoid their slow paths, if
 * it is one of {@link PLAIN_MATMUL_BACKENDS}; returns whether the wrapper is in place.
 *
 * Why: the wasm backend multiplies at full speed only when neither operand is transposed and
 * there is one matrix per operand; a `transposeA`/`transposeB` flag, or a batch of matrices,
 * takes a path about 10× slower. Autodiff's gradient of every matMul (`dA = dY·Bᵀ`,
 * `dB = Aᵀ·dY`) issues exactly such flagged products, also inside `tf.fused.matMul`'s own
 * gradient. Wrapping the kernels (rather than registering other gradients) catches every caller
 * — stock gradients, fused gradients, forward passes — and only on the backend where it helps,
 * because kernels are registered per backend while gradients are global. Products and gradients
 * are tested against the cpu backend's in `test/node/autodiff.test.ts`. Idempotent;
 * `selectBackend` calls it for the backend it chooses.
 *
 * @example
 * installPlainMatMul(tf.getBackend()); // true on wasm
 */
export function installPlainMatMul(backendName: string): boolean {
  if (!PLAIN_MATMUL_BACKENDS.includes(backendName)) return false;
  if (originals.has(backendName)) return true;
  const saved: tf.KernelConfig[] = [];
  for (const kernelName of MATMUL_KERNELS) {
    const original = tf.getKernel(kernelName, backendName);
    if (original === undefined) continue;
    saved.push(original);
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ ...original, kernelFunc: plainMatMulKernel(original, backendName) });
  }
  originals.set(backendName, saved);
  return true;
}

/**
 * Puts the backend's own matMul kernels back (benchmarks and tests compare both; a node never
 * needs it). Cheap: two registry updates.
 */
export function uninstallPlainMatMul(backendName: string): void {
  const saved = originals.get(backendName);
  if (saved === undefined) return;
  for (const original of saved) {
    tf.unregisterKernel(original.kernelName, backendName);
    tf.registerKernel(original);
  }
  originals.delete(backendName);
}
