import * as tf from "@tensorflow/tfjs-core";

import { hasHeap } from "./heap-kernels.js";
import { kernelReplacements } from "./kernel-replacements.js";

/**
 * The backends whose matMul kernels get the {@link installPlainMatMul} wrapper. Only wasm: on
 * the cpu backend a transposed operand costs nothing extra and the explicit copy only adds time
 * (docs/training.md, "Performance"); the native backends hand the flags to their BLAS.
 */
export const PLAIN_MATMUL_BACKENDS: readonly string[] = ["wasm"];

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
 * A matMul kernel that hands the backend's own kernel plain single-matrix operands wherever that
 * reaches its fast path:
 *  - a transposed operand is first copied by the backend's Transpose kernel;
 *  - a batched left operand against a right operand without batch (`[..., m, k]·[k, n]`, a
 *    dense layer over a sequence) is multiplied as one `[(...)·m, k]·[k, n]` product;
 *  - a batch on the right (`[..., m, k]·[..., k, n]` with equal batch shapes, attention's
 *    per-head products, or one left matrix against a batch) is multiplied matrix by matrix:
 *    each operand's matrices are copied out of a heap view (the Slice kernel where the backend
 *    has no heap), multiplied plainly, and the products joined by the Concat kernel. Each copy
 *    is a new tensor, freed after its product: the wasm backend caches a product's packed
 *    right-hand operand by data id alone, so handing it the caller's data in another shape
 *    could reuse a packing of the wrong size.
 * Other broadcasts (`[1, 4, …]·[2, 1, …]`) go to the original kernel as they are. Every path
 * computes the same products as the original kernel, in a layout its fast path accepts; results
 * agree within float32 rounding.
 */
function plainMatMulKernel(original: tf.KernelConfig, backendName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const attrs = args.attrs as unknown as MatMulAttrs;
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const batchShapeA = a.shape.slice(0, -2);
    const batchShapeB = b.shape.slice(0, -2);
    const batchA = batchShapeA.reduce((x, y) => x * y, 1);
    const batchB = batchShapeB.reduce((x, y) => x * y, 1);
    // The fast path takes one matrix per operand. A batch on the left against one matrix can be
    // flattened (BatchMatMul only: _FusedMatMul's wasm kernel wants rank-3 operands and may
    // carry a bias of its own shape); a batch on the right is taken matrix by matrix
    // (BatchMatMul only, for the same reason).
    const isBatchMatMul = original.kernelName === tf.BatchMatMul;
    const flattenA = isBatchMatMul && batchA > 1 && batchB === 1;
    const perMatrix =
      isBatchMatMul &&
      batchB > 1 &&
      (batchA === 1 || tf.util.arraysEqual(batchShapeA, batchShapeB));
    const reachesFastPath = (batchB === 1 && (batchA === 1 || isBatchMatMul)) || perMatrix;
    if (!reachesFastPath || (!attrs.transposeA && !attrs.transposeB && !flattenA && !perMatrix)) {
      return original.kernelFunc(args);
    }

    const transpose = tf.getKernel(tf.Transpose, backendName);
    const reshape = tf.getKernel(tf.Reshape, backendName);
    const slice = tf.getKernel(tf.Slice, backendName);
    const concat = tf.getKernel(tf.Concat, backendName);
    if (
      transpose === undefined ||
      reshape === undefined ||
      (perMatrix && (slice === undefined || concat === undefined))
    ) {
      return original.kernelFunc(args);
    }
    const temporaries: tf.TensorInfo[] = [];
    const call = (
      kernel: tf.KernelConfig,
      kernelInputs: tf.NamedTensorInfoMap,
      kernelAttrs: object,
    ) => {
      const out = kernel.kernelFunc({
        inputs: kernelInputs,
        backend,
        attrs: kernelAttrs as tf.NamedAttrMap,
      }) as tf.TensorInfo;
      temporaries.push(out);
      return out;
    };
    const plain = (x: tf.TensorInfo, transposed: boolean): tf.TensorInfo =>
      transposed ? call(transpose, { x }, { perm: swapLastTwo(x.shape.length) }) : x;
    let plainA = plain(a, attrs.transposeA);
    const plainB = plain(b, attrs.transposeB);
    const m = plainA.shape[plainA.shape.length - 2] as number;
    const k = plainA.shape[plainA.shape.length - 1] as number;
    const n = plainB.shape[plainB.shape.length - 1] as number;
    const outShape = [
      ...tf.broadcast_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB),
      m,
      n,
    ];
    const plainAttrs = { ...args.attrs, transposeA: false, transposeB: false };
    /** Matrix `i` of `x: [batch, rows, cols]`, as a `[1, rows, cols]` tensor of its own. */
    const matrix = (x: tf.TensorInfo, i: number): tf.TensorInfo => {
      const [, rows, cols] = x.shape as [number, number, number];
      // Cut from a view of the heap where the backend gives one: the wasm Slice kernel copies
      // the whole operand before it cuts one matrix out (heap-kernels.ts).
      if (!hasHeap(backend)) {
        return call(slice, { x }, { begin: [i, 0, 0], size: [1, rows, cols] });
      }
      const out = backend.makeOutput([1, rows, cols], x.dtype);
      temporaries.push(out);
      // Views taken after the allocation: growing the heap detaches earlier ones.
      const size = rows * cols;
      backend
        .typedArrayFromHeap(out)
        .set(backend.typedArrayFromHeap(x).subarray(i * size, (i + 1) * size));
      return out;
    };
    try {
      let out: tf.TensorInfo;
      if (perMatrix) {
        // [batch, rows, cols] views (Reshape shares the data), then one plain product per matrix.
        const a3 = call(reshape, { x: plainA }, { shape: [batchA, m, k] });
        const b3 = call(reshape, { x: plainB }, { shape: [batchB, k, n] });
        const products: tf.TensorInfo[] = [];
        for (let i = 0; i < batchB; i++) {
          const ai = batchA === 1 ? a3 : matrix(a3, i);
          const bi = matrix(b3, i);
          const product = original.kernelFunc({
            ...args,
            inputs: { ...inputs, a: ai, b: bi },
            attrs: plainAttrs,
          }) as tf.TensorInfo;
          temporaries.push(product);
          products.push(product);
        }
        out = concat.kernelFunc({
          inputs: products as unknown as tf.NamedTensorInfoMap,
          backend,
          attrs: { axis: 0 },
        }) as tf.TensorInfo;
      } else {
        if (flattenA) plainA = call(reshape, { x: plainA }, { shape: [batchA * m, k] });
        out = original.kernelFunc({
          ...args,
          inputs: { ...inputs, a: plainA, b: plainB },
          attrs: plainAttrs,
        }) as tf.TensorInfo;
      }
      // The kernels themselves set the output shape this way after a rank-3 computation.
      (out as { shape: number[] }).shape = outShape;
      return out;
    } finally {
      for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
    }
  };
}

const plainMatMul = kernelReplacements(PLAIN_MATMUL_BACKENDS, {
  [tf.BatchMatMul]: plainMatMulKernel,
  [tf._FusedMatMul]: plainMatMulKernel,
});

/**
 * Makes the `BatchMatMul` and `_FusedMatMul` kernels of `backendName` avoid their slow paths, if
 * it is one of {@link PLAIN_MATMUL_BACKENDS}; returns whether the wrapper is in place.
 *
 * Why: the wasm backend multiplies at full speed only when neither operand is transposed and
 * there is one matrix per operand; a `transposeA`/`transposeB` flag, or a batch of matrices,
 * takes a path about 10× slower (3–5× for attention's 128×32 per-head products, whose
 * per-matrix calls cost more overhead). Autodiff's gradient of every matMul (`dA = dY·Bᵀ`,
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
  return plainMatMul.install(backendName);
}

/**
 * Puts the backend's own matMul kernels back (benchmarks and tests compare both; a node never
 * needs it). Cheap: two registry updates.
 */
export function uninstallPlainMatMul(backendName: string): void {
  plainMatMul.uninstall(backendName);
}
