import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as tf from "@tensorflow/tfjs-core";

import { createByteTransformer } from "../../node/src/model/transformer.js";
import { initParams, unflattenParams } from "../../node/src/model/params.js";
import { createRng } from "../../node/src/random/index.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { installHeapKernels, uninstallHeapKernels } from "../../node/src/train/heap-kernels.js";

const rng = createRng("protolearn/test/heap-kernels");
const values = (shape: readonly number[]): Float32Array =>
  Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.nextFloat() - 0.5);

interface Outcome {
  shapes: number[][];
  values: number[][];
}

/** `f` on `input` on one backend: every output's shape and values. */
async function on(
  backend: "wasm" | "cpu",
  input: { shape: number[]; values: Float32Array | Int32Array; dtype: "float32" | "int32" },
  f: (x: tf.Tensor) => tf.Tensor | tf.Tensor[],
): Promise<Outcome> {
  await selectBackend({ backend });
  return tf.tidy(() => {
    const x = tf.tensor(input.values, input.shape, input.dtype);
    const out = f(x);
    const list = Array.isArray(out) ? out : [out];
    return {
      shapes: list.map((t) => t.shape),
      values: list.map((t) => Array.from(t.dataSync())),
    };
  });
}

/** Runs `f` on wasm (replaced kernels) and cpu; asserts equal shapes and values within `tolerance`. */
async function sameOnBothBackends(
  shape: number[],
  f: (x: tf.Tensor) => tf.Tensor | tf.Tensor[],
  options: { tolerance?: number; dtype?: "float32" | "int32" } = {},
): Promise<void> {
  const dtype = options.dtype ?? "float32";
  const data =
    dtype === "int32" ? Int32Array.from(values(shape), (v) => Math.round(v * 1000)) : values(shape);
  const input = { shape, values: data, dtype };
  const tensorsBefore = (await selectBackend({ backend: "wasm" }), tf.memory().numTensors);
  const wasm = await on("wasm", input, f);
  assert.equal(tf.memory().numTensors, tensorsBefore, "no tensors leak on wasm");
  const cpu = await on("cpu", input, f);
  assert.deepEqual(wasm.shapes, cpu.shapes, "shapes");
  const tolerance = options.tolerance ?? 0;
  wasm.values.forEach((got, k) => {
    const want = cpu.values[k] as number[];
    for (let i = 0; i < want.length; i++) {
      const g = got[i] as number;
      const w = want[i] as number;
      assert.ok(
        tolerance === 0 ? Object.is(g, w) : Math.abs(g - w) <= tolerance * (1 + Math.abs(w)),
        `output ${k} [${i}]: wasm ${g}, cpu ${w}`,
      );
    }
  });
}

describe("heap kernels on wasm (installHeapKernels)", () => {
  before(async () => {
    await selectBackend({ backend: "wasm" });
  });

  it("are installed by selectBackend on wasm and not on cpu", async () => {
    assert.equal((await selectBackend({ backend: "cpu" })).heapKernels, false);
    assert.equal((await selectBackend({ backend: "wasm" })).heapKernels, true);
    assert.equal(installHeapKernels("cpu"), false);
  });

  const slices: [number[], number[], number[]][] = [
    [[10], [3], [4]],
    [
      [6, 7],
      [2, 0],
      [3, 7],
    ], // whole rows: contiguous
    [
      [6, 7],
      [1, 2],
      [4, 3],
    ],
    [
      [3, 4, 5],
      [1, 1, 2],
      [2, 3, -1],
    ],
    [
      [2, 3, 4, 5],
      [1, 0, 1, 2],
      [1, 3, 2, 3],
    ],
  ];
  for (const [shape, begin, size] of slices) {
    it(`Slice ${JSON.stringify(shape)} from ${JSON.stringify(begin)} size ${JSON.stringify(size)}: bit for bit the cpu backend's, float32 and int32`, async () => {
      await sameOnBothBackends(shape, (x) => tf.slice(x, begin, size));
      await sameOnBothBackends(shape, (x) => tf.slice(x, begin, size), { dtype: "int32" });
    });
  }

  const splits: [number[], number[] | number, number][] = [
    [[12, 9], 3, 1],
    [[12, 9], [2, 3, 4], 1],
    [[12, 9], [5, 7], 0],
    [[2, 6, 4], [1, 2, 3], 1],
  ];
  for (const [shape, sizes, axis] of splits) {
    it(`SplitV ${JSON.stringify(shape)} into ${JSON.stringify(sizes)} along ${axis}: bit for bit`, async () => {
      await sameOnBothBackends(shape, (x) => tf.split(x, sizes, axis));
    });
  }

  const sums: [number[], number[], boolean][] = [
    [[64, 9], [0], false], // a bias gradient
    [[4, 5, 6], [0, 1], false], // leading axes of a sequence
    [[4, 5, 6], [0], true],
    [[4, 5, 6], [1], false], // not leading: the original kernel
    [[4, 5, 6], [2], true],
    [[7], [0], false], // every axis: the original kernel
  ];
  for (const [shape, axes, keepDims] of sums) {
    it(`Sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}${keepDims ? ", keepDims" : ""}: within float32 rounding of the cpu backend`, async () => {
      await sameOnBothBackends(shape, (x) => tf.sum(x, axes, keepDims), { tolerance: 1e-6 });
    });
  }

  const transposes: [number[], number[]][] = [
    [
      [13, 21],
      [1, 0],
    ], // not a multiple of the tile
    [
      [3, 16, 24],
      [0, 2, 1],
    ], // a batch of matrices
    [
      [2, 5, 3, 4],
      [0, 2, 1, 3],
    ], // attention's heads: the last axis stays
    [
      [2, 5, 3, 4],
      [0, 1, 3, 2],
    ],
    [
      [2, 5, 3, 4],
      [3, 1, 2, 0],
    ], // anything else: the original kernel
  ];
  for (const [shape, perm] of transposes) {
    it(`Transpose ${JSON.stringify(shape)} by ${JSON.stringify(perm)}: bit for bit, float32 and int32`, async () => {
      await sameOnBothBackends(shape, (x) => tf.transpose(x, perm));
      await sameOnBothBackends(shape, (x) => tf.transpose(x, perm), { dtype: "int32" });
    });
  }

  it("byte-transformer-v1's loss and gradients on wasm equal the cpu backend's, with and without the replaced kernels", async () => {
    const model = createByteTransformer({
      layers: 1,
      dModel: 16,
      heads: 2,
      context: 8,
      mlpRatio: 2,
    });
    const flat = initParams(model.spec, "protolearn/test/heap-kernels/lm");
    const windows = Float32Array.from({ length: 3 * 9 }, (_, i) => (i * 37 + 11) % 256);
    const run = async (backend: "wasm" | "cpu"): Promise<number[][]> => {
      await selectBackend({ backend });
      return tf.tidy(() => {
        const params = unflattenParams(model.spec, flat);
        const x = tf.tensor2d(windows, [3, 9]);
        const { loss, gradients } = model.lossAndGradients(params, x, tf.zeros([3]) as tf.Tensor1D);
        return [[loss.dataSync()[0] as number], ...gradients.map((g) => Array.from(g.dataSync()))];
      });
    };
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    uninstallHeapKernels("wasm");
    let stock: number[][];
    try {
      stock = await run("wasm");
    } finally {
      installHeapKernels("wasm");
    }
    for (const [name, got] of [
      ["wasm", wasm],
      ["wasm, stock kernels", stock],
    ] as const) {
      got.forEach((tensor, k) => {
        const want = cpu[k] as number[];
        tensor.forEach((g, i) => {
          const w = want[i] as number;
          assert.ok(
            Math.abs(g - w) <= 1e-4 * (1 + Math.abs(w)),
            `${name} tensor ${k}[${i}]: ${g}, cpu ${w}`,
          );
        });
      });
    }
  });
});
