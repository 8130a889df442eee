import * as tf from "@tensorflow/tfjs-core";

import { kernelReplacements } from "./kernel-replacements.js";

/**
 * The backends whose Slice, SplitV, Sum and Transpose kernels {@link installHeapKernels} replaces. Only
 * wasm: the replacements read the backend's heap directly (see {@link HeapBackend}).
 */
export const HEAP_KERNEL_BACKENDS: readonly string[] = ["wasm"];

/**
 * The wasm backend's access to its own heap: a new output tensor, and a view of a tensor's
 * values (no copy). A view must be taken after the last allocation: growing the heap detaches
 * earlier ones.
 */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

/** Whether `backend` gives {@link HeapBackend}'s access (the wasm backend does). */
export function hasHeap(backend: unknown): backend is HeapBackend {
  const candidate = backend as Partial<HeapBackend>;
  return (
    typeof candidate.makeOutput === "function" && typeof candidate.typedArrayFromHeap === "function"
  );
}

/** Dtypes whose values sit in the heap one element per typed-array slot (not strings, complex64). */
const HEAP_DTYPES: readonly tf.DataType[] = ["float32", "int32", "bool"];

/**
 * Copies whole rows of `rowLength` values from `from` into consecutive rows of `to`. The output
 * rows are enumerated by an odometer over `counts` (the output's leading axes, last fastest);
 * output row `(i_0, …, i_k)` is read from offset `start + Σ i_d · steps[d]` of `from`.
 */
function copyRows(
  from: tf.TypedArray,
  to: tf.TypedArray,
  rowLength: number,
  counts: readonly number[],
  start: number,
  steps: readonly number[],
): void {
  const rows = to.length / Math.max(rowLength, 1);
  const index = new Array<number>(counts.length).fill(0);
  for (let r = 0; r < rows; r++) {
    let offset = start;
    for (let d = 0; d < counts.length; d++) offset += (index[d] as number) * (steps[d] as number);
    to.set(from.subarray(offset, offset + rowLength), r * rowLength);
    for (let d = counts.length - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (counts[d] as number)) break;
      index[d] = 0;
    }
  }
}

/**
 * `x[begin : begin + size]` copied row by row from a view of `x` into a new tensor. The wasm
 * backend's own Slice first copies the WHOLE input out of the heap (`readSync`) and then cuts
 * the piece out of that copy, so cutting q, k and v out of a [1024, 384] activation cost 1.7 ms,
 * most of it copies that are thrown away.
 */
function sliceFromHeap(
  backend: HeapBackend,
  x: tf.TensorInfo,
  begin: readonly number[],
  size: readonly number[],
): tf.TensorInfo {
  const out = backend.makeOutput([...size], x.dtype);
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  const start = begin.reduce(
    (sum, b, d) => sum + b * (d < rank - 1 ? (strides[d] as number) : 1),
    0,
  );
  copyRows(from, to, size[rank - 1] as number, size.slice(0, -1), start, strides);
  return out;
}

function sliceKernel(original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend;
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    if (!hasHeap(backend) || !HEAP_DTYPES.includes(x.dtype) || x.shape.length === 0) {
      return original.kernelFunc(args);
    }
    const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [
      number[],
      number[],
    ];
    return sliceFromHeap(backend, x, begin_, size_);
  };
}

function splitKernel(original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend;
    const { numOrSizeSplits, axis } = args.attrs as unknown as {
      numOrSizeSplits: number[] | number;
      axis: number;
    };
    if (!hasHeap(backend) || !HEAP_DTYPES.includes(x.dtype) || x.shape.length === 0) {
      return original.kernelFunc(args);
    }
    const along = tf.util.parseAxisParam(axis, x.shape)[0] as number;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, along);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[along] = s;
      const piece = sliceFromHeap(backend, x, begin, size);
      begin[along] = (begin[along] as number) + s;
      return piece;
    });
  };
}

/** Tile edge of {@link transposeKernel}'s blocked 2-D transpose (fastest of 8/16/32 measured). */
const TRANSPOSE_TILE = 8;

/**
 * A Transpose that either keeps the last axis in place (attention's `[b, t, h, s] → [b, h, t, s]`:
 * whole rows are copied) or swaps only the last two axes (`[…, r, c] → […, c, r]`: every matrix
 * transposed in 8×8 tiles), from heap views. The wasm backend's own Transpose took 3.6 ms for a
 * [1024, 512] matrix, the tiled loop 0.7 ms, and the matMul wrapper transposes an operand for
 * every weight gradient. Other permutations go to the original kernel.
 */
function transposeKernel(original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend;
    const { perm } = args.attrs as unknown as { perm: number[] };
    const rank = x.shape.length;
    if (!hasHeap(backend) || !HEAP_DTYPES.includes(x.dtype) || rank < 2)
      return original.kernelFunc(args);
    const keepsLast = perm[rank - 1] === rank - 1;
    const swapsLastTwo =
      perm[rank - 1] === rank - 2 &&
      perm[rank - 2] === rank - 1 &&
      perm.slice(0, -2).every((p, i) => p === i);
    if (!keepsLast && !swapsLastTwo) return original.kernelFunc(args);
    const outShape = perm.map((p) => x.shape[p] as number);
    const out = backend.makeOutput(outShape, x.dtype);
    const from = backend.typedArrayFromHeap(x);
    const to = backend.typedArrayFromHeap(out);
    if (keepsLast) {
      const inStrides = tf.util.computeStrides(x.shape);
      const steps = perm.slice(0, -1).map((p) => inStrides[p] as number);
      copyRows(from, to, x.shape[rank - 1] as number, outShape.slice(0, -1), 0, steps);
      return out;
    }
    const rows = x.shape[rank - 2] as number;
    const cols = x.shape[rank - 1] as number;
    const matrices = to.length / Math.max(rows * cols, 1);
    for (let b = 0; b < matrices; b++) {
      const base = b * rows * cols;
      for (let r0 = 0; r0 < rows; r0 += TRANSPOSE_TILE) {
        const rEnd = Math.min(r0 + TRANSPOSE_TILE, rows);
        for (let c0 = 0; c0 < cols; c0 += TRANSPOSE_TILE) {
          const cEnd = Math.min(c0 + TRANSPOSE_TILE, cols);
          for (let r = r0; r < rEnd; r++) {
            const source = base + r * cols;
            for (let c = c0; c < cEnd; c++) to[base + c * rows + r] = from[source + c] as number;
          }
        }
      }
    }
    return out;
  };
}

/**
 * A Sum over the leading axes (`[N, …] → […]`: every bias and LayerNorm-gain gradient) as one
 * pass over the rows of a heap view, adding each row into a float64 accumulator. The wasm
 * backend's Sum first transposes the reduced axes to the end (a copy as slow as its Transpose:
 * 3.8 ms for [1024, 512]). A product `ones·x` would be as fast but would hand `x`'s data to the
 * matMul kernel as its cached right operand, and the wasm backend caches that operator by data
 * id alone: a later product that reads the same data in another shape (a reshape shares it)
 * would run with the wrong sizes. Other reductions go to the original kernel.
 */
function sumKernel(original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend;
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    const rank = x.shape.length;
    const axes = [...tf.util.parseAxisParam(axis, x.shape)].sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!hasHeap(backend) || x.dtype !== "float32" || !leading) {
      return original.kernelFunc(args);
    }
    const kept = x.shape.slice(axes.length);
    const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
    const width = kept.reduce((a, b) => a * b, 1);
    const sums = new Float64Array(width);
    const values = backend.typedArrayFromHeap(x);
    for (let r = 0; r < rows; r++) {
      const offset = r * width;
      for (let c = 0; c < width; c++)
        sums[c] = (sums[c] as number) + (values[offset + c] as number);
    }
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, "float32");
    backend.typedArrayFromHeap(out).set(sums);
    return out;
  };
}

const heapKernels = kernelReplacements(HEAP_KERNEL_BACKENDS, {
  [tf.Slice]: sliceKernel,
  [tf.SplitV]: splitKernel,
  [tf.Sum]: sumKernel,
  [tf.Transpose]: transposeKernel,
});

/**
 * Replaces the Slice, SplitV, Sum and Transpose kernels of `backendName` (wasm only, see
 * {@link HEAP_KERNEL_BACKENDS}) with ones that skip the backend's slow paths: Slice and SplitV
 * copy only the piece they cut, from a view of the heap; a Sum over leading axes adds rows in
 * place; a Transpose that keeps the last axis copies rows, one that swaps the last two copies
 * 8×8 tiles. Results equal the stock kernels' (Slice, SplitV, Transpose: bit for bit; Sum: within float32
 * rounding, accumulated in float64 in a fixed order, so runs stay deterministic); tested against the
 * cpu backend in `test/node/heap-kernels.test.ts`. Idempotent; `selectBackend` calls it.
 * Returns whether the kernels are in place.
 *
 * @example
 * installHeapKernels(tf.getBackend()); // true on wasm
 */
export function installHeapKernels(backendName: string): boolean {
  return heapKernels.install(backendName);
}

/** Puts the backend's own Slice, SplitV, Sum and Transpose kernels back (benchmarks and tests compare both). */
export function uninstallHeapKernels(backendName: string): void {
  heapKernels.uninstall(backendName);
}
