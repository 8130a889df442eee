import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as tf from "@tensorflow/tfjs-core";
// Registers the stock gradients (BatchMatMul, fused matMul's own) as the models do.
import "../../node/src/model/model.js";

import { createMnistCnn } from "../../node/src/model/cnn.js";
import { initParams, splitParams, unflattenParams } from "../../node/src/model/params.js";
import { createRng } from "../../node/src/random/index.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { installPlainMatMul, uninstallPlainMatMul } from "../../node/src/train/plain-matmul.js";

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

// Every transpose combination, a batch on both sides, a batch against a plain matrix (flattened
// by the wrapper) and broadcast batch dimensions.
const CASES: Case[] = [
  { name: "a·b", a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { name: "aᵀ·b", a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
  { name: "a·bᵀ", a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
  { name: "aᵀ·bᵀ", a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { name: "batched aᵀ·b", a: [2, 7, 5], b: [2, 7, 3], transposeA: true, transposeB: false },
  { name: "batched a·bᵀ", a: [2, 5, 7], b: [2, 3, 7], transposeA: false, transposeB: true },
  { name: "batch × matrix", a: [2, 3, 5, 7], b: [7, 4], transposeA: false, transposeB: false },
  { name: "batch × matrixᵀ", a: [3, 7, 5], b: [4, 7], transposeA: true, transposeB: true },
  { name: "matrix × batch", a: [5, 7], b: [3, 7, 4], transposeA: false, transposeB: false },
  { name: "broadcast batch", a: [1, 7, 5], b: [2, 3, 7, 4], transposeA: true, transposeB: false },
  // Attention's per-head products: equal batches on both sides, taken matrix by matrix on wasm.
  { name: "per-head a·b", a: [2, 3, 5, 7], b: [2, 3, 7, 4], transposeA: false, transposeB: false },
  { name: "per-head a·bᵀ", a: [2, 3, 5, 7], b: [2, 3, 4, 7], transposeA: false, transposeB: true },
  { name: "per-head aᵀ·b", a: [2, 3, 7, 5], b: [2, 3, 7, 4], transposeA: true, transposeB: false },
];

const rng = createRng("protolearn/test/autodiff");
const values = (shape: number[]): Float32Array =>
  Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.nextFloat() - 0.5);

interface Result {
  shape: number[];
  product: Float32Array;
  /** d(Σ w ⊙ f(a, b))/da and /db, with fixed weights w so that every output element counts. */
  gradients: Float32Array[];
}

/** The product and its gradients of one case on the active backend, via `tf.matMul` or `tf.fused.matMul`. */
function run(c: Case, a: Float32Array, b: Float32Array, w: Float32Array, fused: boolean): Result {
  return tf.tidy(() => {
    const ta = tf.tensor(a, c.a);
    const tb = tf.tensor(b, c.b);
    const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor =>
      fused
        ? tf.fused.matMul({ a: x, b: y, transposeA: c.transposeA, transposeB: c.transposeB })
        : tf.matMul(x, y, c.transposeA, c.transposeB);
    const product = f(ta, tb);
    const tw = tf.tensor(w, product.shape);
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), tw)))([ta, tb]);
    return {
      shape: product.shape,
      product: product.dataSync() as Float32Array,
      gradients: grads.map((g) => g.dataSync() as Float32Array),
    };
  });
}

function assertClose(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const r = want[i] as number;
    assert.ok(Math.abs(g - r) <= 1e-5 * (1 + Math.abs(r)), `${what}[${i}] = ${g}, reference ${r}`);
  }
}

/** Row-major strides of `shape`. */
function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--)
    out[i] = (out[i + 1] as number) * (shape[i + 1] as number);
  return out;
}

/**
 * The mathematically expected product op(A)·op(B) and gradients of Σ w ⊙ product, in float64 by
 * definition: batch dimensions broadcast right-aligned, and a broadcast operand's gradient summed
 * over the batch entries it was reused for.
 */
function naive(c: Case, a: Float32Array, b: Float32Array, w: Float32Array): Result {
  const batchA = c.a.slice(0, -2);
  const batchB = c.b.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const pa = pad(batchA);
  const pb = pad(batchB);
  const batch = pa.map((d, i) => Math.max(d, pb[i] as number));
  const [ra, ca] = c.a.slice(-2) as [number, number];
  const [rb, cb] = c.b.slice(-2) as [number, number];
  const m = c.transposeA ? ca : ra;
  const k = c.transposeA ? ra : ca;
  const n = c.transposeB ? rb : cb;
  const count = batch.reduce((x, y) => x * y, 1);
  const product = new Float64Array(count * m * n);
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  const sOut = strides(batch);
  const sA = strides(pa);
  const sB = strides(pb);
  for (let o = 0; o < count; o++) {
    let offA = 0;
    let offB = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(o / (sOut[d] as number)) % (batch[d] as number);
      if ((pa[d] as number) > 1) offA += idx * (sA[d] as number);
      if ((pb[d] as number) > 1) offB += idx * (sB[d] as number);
    }
    offA *= ra * ca;
    offB *= rb * cb;
    const ia = (i: number, kk: number): number => offA + (c.transposeA ? kk * ca + i : i * ca + kk);
    const ib = (kk: number, j: number): number => offB + (c.transposeB ? j * cb + kk : kk * cb + j);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const out = (o * m + i) * n + j;
        const wij = w[out] as number;
        let sum = 0;
        for (let kk = 0; kk < k; kk++) {
          sum += (a[ia(i, kk)] as number) * (b[ib(kk, j)] as number);
          da[ia(i, kk)] = (da[ia(i, kk)] as number) + wij * (b[ib(kk, j)] as number);
          db[ib(kk, j)] = (db[ib(kk, j)] as number) + wij * (a[ia(i, kk)] as number);
        }
        product[out] = sum;
      }
  }
  return {
    shape: [...batch, m, n],
    product: Float32Array.from(product),
    gradients: [Float32Array.from(da), Float32Array.from(db)],
  };
}

describe("plain matMul on wasm (installPlainMatMul)", () => {
  before(async () => {
    await selectBackend({ backend: "wasm" });
  });

  it("is installed by selectBackend on wasm and not on cpu", async () => {
    assert.equal((await selectBackend({ backend: "cpu" })).plainMatMul, false);
    assert.equal((await selectBackend({ backend: "wasm" })).plainMatMul, true);
    assert.equal(installPlainMatMul("cpu"), false);
  });

  for (const fused of [false, true]) {
    for (const c of CASES) {
      // The fused op takes rank-3 operands of equal batch only in this form; skip the others.
      if (fused && c.a.length !== c.b.length) continue;
      it(`${fused ? "fused " : ""}${c.name} ${JSON.stringify(c.a)}·${JSON.stringify(c.b)}: product and gradients equal the float64 reference on wasm (wrapped kernels) and cpu`, async () => {
        const a = values(c.a);
        const b = values(c.b);
        const outShape = tf.tidy(
          () => tf.matMul(tf.zeros(c.a), tf.zeros(c.b), c.transposeA, c.transposeB).shape,
        );
        const w = values(outShape);
        const reference = naive(c, a, b, w);
        for (const backend of ["wasm", "cpu"] as const) {
          await selectBackend({ backend });
          const tensorsBefore = tf.memory().numTensors;
          const got = run(c, a, b, w, fused);
          assert.equal(tf.memory().numTensors, tensorsBefore, `${backend}: no tensors leak`);
          assert.deepEqual(got.shape, reference.shape, `${backend}: shape`);
          assertClose(got.product, reference.product, `${backend} product`);
          assertClose(
            got.gradients[0] as Float32Array,
            reference.gradients[0] as Float32Array,
            `${backend} dA`,
          );
          assertClose(
            got.gradients[1] as Float32Array,
            reference.gradients[1] as Float32Array,
            `${backend} dB`,
          );
        }
        await selectBackend({ backend: "wasm" });
      });
    }
  }

  it("takes the fast path: a transposed operand is copied by the Transpose kernel, then multiplied plainly", () => {
    // Which kernels run, not how long they take (speed is bench:train's job): count the wasm
    // Transpose kernel's calls during one transposed product, with and without the wrapper.
    const transpose = tf.getKernel(tf.Transpose, "wasm");
    assert.ok(transpose !== undefined, "the wasm backend has a Transpose kernel");
    let calls = 0;
    tf.unregisterKernel(tf.Transpose, "wasm");
    tf.registerKernel({
      ...transpose,
      kernelFunc: (args) => {
        calls++;
        return transpose.kernelFunc(args);
      },
    });
    const a = tf.tensor(values([128, 784]), [128, 784]);
    const dy = tf.tensor(values([128, 256]), [128, 256]);
    const transposesOfOneProduct = (): number => {
      const before = calls;
      const c = tf.matMul(a, dy, true, false);
      c.dataSync();
      c.dispose();
      return calls - before;
    };
    try {
      const wrapped = transposesOfOneProduct();
      uninstallPlainMatMul("wasm");
      const stock = transposesOfOneProduct();
      installPlainMatMul("wasm");
      assert.equal(wrapped, 1, "the wrapper copies the transposed operand once");
      assert.equal(stock, 0, "the stock kernel multiplies with the transposed flag");
    } finally {
      tf.dispose([a, dy]);
      tf.unregisterKernel(tf.Transpose, "wasm");
      tf.registerKernel(transpose);
    }
  });
  it("takes attention's per-head products matrix by matrix: one plain single-matrix call each", () => {
    // Which kernel calls run, not how long they take (speed is bench:train's job): put a
    // recording BatchMatMul under the wrapper and look at what the wrapper hands it.
    const stockKernel = tf.getKernel(tf.BatchMatMul, "wasm");
    uninstallPlainMatMul("wasm");
    const original = tf.getKernel(tf.BatchMatMul, "wasm");
    assert.ok(stockKernel !== undefined && original !== undefined);
    const calls: { batch: number; transposed: boolean }[] = [];
    tf.unregisterKernel(tf.BatchMatMul, "wasm");
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
        calls.push({
          batch: Math.max(
            a.shape.slice(0, -2).reduce((x, y) => x * y, 1),
            b.shape.slice(0, -2).reduce((x, y) => x * y, 1),
          ),
          transposed: attrs.transposeA || attrs.transposeB,
        });
        return original.kernelFunc(args);
      },
    });
    const q = tf.tensor(values([2, 4, 16, 8]), [2, 4, 16, 8]);
    const k = tf.tensor(values([2, 4, 16, 8]), [2, 4, 16, 8]);
    const callsOfOneProduct = (): { batch: number; transposed: boolean }[] => {
      calls.length = 0;
      const scores = tf.matMul(q, k, false, true);
      scores.dataSync();
      scores.dispose();
      return [...calls];
    };
    try {
      const stock = callsOfOneProduct();
      installPlainMatMul("wasm");
      const wrapped = callsOfOneProduct();
      assert.deepEqual(
        stock,
        [{ batch: 8, transposed: true }],
        "unwrapped: one batched, flagged call",
      );
      assert.equal(wrapped.length, 8, "wrapped: one call per head and window");
      assert.ok(
        wrapped.every((c) => c.batch === 1 && !c.transposed),
        "each call plain, one matrix",
      );
    } finally {
      tf.dispose([q, k]);
      uninstallPlainMatMul("wasm");
      tf.unregisterKernel(tf.BatchMatMul, "wasm");
      tf.registerKernel(original);
      installPlainMatMul("wasm");
    }
  });
});

/** Stock TensorFlow.js autodiff of mnist-cnn-v1's loss (tf.conv2d, tf.maxPool, their registered gradients). */
function stockCnnGradients(
  flat: Float32Array,
  x: Float32Array,
  labels: Int32Array,
): Float32Array[] {
  const model = createMnistCnn();
  return tf.tidy(() => {
    const params = unflattenParams(model.spec, flat);
    const image = tf.tensor4d(x, [labels.length, 28, 28, 1]);
    const targets = tf.cast(tf.oneHot(tf.tensor1d(labels, "int32"), 10), "float32");
    const f = (...ps: tf.Tensor[]): tf.Scalar => {
      const [k0, b0, k1, b1, w, b] = ps as [
        tf.Tensor4D,
        tf.Tensor1D,
        tf.Tensor4D,
        tf.Tensor1D,
        tf.Tensor2D,
        tf.Tensor1D,
      ];
      const pool = (t: tf.Tensor4D): tf.Tensor4D => tf.maxPool(t, 2, 2, "valid");
      const h0 = pool(tf.relu(tf.add(tf.conv2d(image, k0, 1, "same"), b0)) as tf.Tensor4D);
      const h1 = pool(tf.relu(tf.add(tf.conv2d(h0, k1, 1, "same"), b1)) as tf.Tensor4D);
      const logits = tf.add(tf.matMul(tf.reshape(h1, [-1, 784]), w), b);
      return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    };
    return tf
      .grads(f)(params)
      .map((g) => g.dataSync() as Float32Array);
  });
}

describe("mnist-cnn-v1's gradients on wasm", () => {
  it("equal stock autodiff on the cpu backend (conv input gradient as a forward conv, max-pool gradient to the first maximum)", async () => {
    const model = createMnistCnn();
    const flat = initParams(model.spec, "autodiff-cnn");
    // Positive biases and zero pixels make windows of equal positive values (ties), as MNIST's
    // blank margins do; the gradient must go to one position per window, as MaxPoolGrad's does.
    const [, b0, , b1] = splitParams(model.spec, flat);
    b0?.fill(0.05);
    b1?.fill(0.05);
    const batch = 6;
    const x = Float32Array.from({ length: batch * 784 }, (_, i) =>
      i % 784 < 300 ? 0 : rng.nextFloat(),
    );
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
    await selectBackend({ backend: "cpu" });
    const reference = stockCnnGradients(flat, x, labels);
    await selectBackend({ backend: "wasm" });
    const got = tf.tidy(() => {
      const params = unflattenParams(model.spec, flat);
      const { gradients } = model.lossAndGradients(
        params,
        tf.tensor2d(x, [batch, 784]),
        tf.tensor1d(labels, "int32"),
      );
      return gradients.map((g) => g.dataSync() as Float32Array);
    });
    model.spec.params.forEach((p, i) => {
      const g = got[i] as Float32Array;
      const r = reference[i] as Float32Array;
      let num = 0;
      let den = 0;
      for (let j = 0; j < r.length; j++) {
        num += ((g[j] as number) - (r[j] as number)) ** 2;
        den += (r[j] as number) ** 2;
      }
      const error = Math.sqrt(num / den);
      assert.ok(den > 0 && error < 1e-4, `${p.name}: relative error ${error}`);
    });
  });
});
