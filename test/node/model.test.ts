import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as tf from "@tensorflow/tfjs-core";
import { bytesToHex, type Hex } from "viem";

import { modelIdFromName } from "../../node/src/codec/index.js";
import { ProtolearnError } from "../../node/src/errors.js";
import { createCharMlp } from "../../node/src/model/char-mlp.js";
import { createMnistCnn } from "../../node/src/model/cnn.js";
import { MODEL_MAGIC, modelHash, serializeModel } from "../../node/src/model/hash.js";
import { createMlp, createMnistMlp } from "../../node/src/model/mlp.js";
import { autodiffLossAndGradients, type Model } from "../../node/src/model/model.js";
import {
  flattenParams,
  initParams,
  splitParams,
  unflattenParams,
} from "../../node/src/model/params.js";
import { createModel, modelForRun, modelNameForId } from "../../node/src/model/registry.js";
import { parameterCount } from "../../node/src/model/spec.js";
import { createRng } from "../../node/src/random/index.js";
import { selectBackend } from "../../node/src/train/backend.js";

/** Pinned: keccak256 of the canonical serialization of `initParams(mnist-mlp-v1, "protolearn/test/init")`. */
const PINNED_MLP_HASH = "0x2450c62c4db22b0501379cbc7fe3cfe2f38d977ec670e6a854b337aafa670c98";

function randomBatch(model: Model, size: number, seed: string): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const rng = createRng(seed);
  const x = Float32Array.from({ length: size * model.spec.inputSize }, () => rng.nextFloat());
  const y = Int32Array.from({ length: size }, () => rng.nextInt(model.spec.numClasses));
  return { x: tf.tensor2d(x, [size, model.spec.inputSize]), y: tf.tensor1d(y, "int32") };
}

/** Largest |a − b| over all gradients, relative to the largest |b|. */
function relativeGradientError(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => {
    let worst = 0;
    a.forEach((g, i) => {
      const ref = b[i] as tf.Tensor;
      assert.deepEqual(g.shape, ref.shape);
      const diff = tf.max(tf.abs(tf.sub(g, ref))).dataSync()[0] as number;
      const scale = Math.max(tf.max(tf.abs(ref)).dataSync()[0] as number, 1e-6);
      worst = Math.max(worst, diff / scale);
    });
    return worst;
  });
}

describe("model parameters and hash", () => {
  const mlp = createMnistMlp();

  it("mnist-mlp-v1 is 784-256-10 with 203,530 parameters", () => {
    assert.equal(mlp.spec.id, "mnist-mlp-v1");
    assert.deepEqual(
      mlp.spec.params.map((p) => p.shape),
      [[784, 256], [256], [256, 10], [10]],
    );
    assert.equal(parameterCount(mlp.spec), 203_530);
  });

  it("seeded init is deterministic, bounded and leaves biases at zero", () => {
    const a = initParams(mlp.spec, "seed-a");
    const b = initParams(mlp.spec, "seed-a");
    const c = initParams(mlp.spec, "seed-b");
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const [w0, b0, w1, b1] = splitParams(mlp.spec, a) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const heLimit = Math.sqrt(6 / 784);
    assert.ok(w0.every((v) => Math.abs(v) <= heLimit));
    assert.ok(
      w0.some((v) => Math.abs(v) > heLimit * 0.99),
      "uses the whole He-uniform range",
    );
    assert.ok(w1.every((v) => Math.abs(v) <= Math.sqrt(6 / 266)));
    assert.ok(b0.every((v) => v === 0) && b1.every((v) => v === 0));
  });

  it("a tensor's init does not depend on the other tensors (per-tensor streams)", () => {
    const wide = createMlp({ id: "x", layers: [784, 256, 10] });
    const deeper = createMlp({ id: "x", layers: [784, 256, 10, 10] });
    const first = splitParams(wide.spec, initParams(wide.spec, "s"))[0];
    const same = splitParams(deeper.spec, initParams(deeper.spec, "s"))[0];
    assert.deepEqual(first, same);
  });

  it("the same parameters give the same hash; the pinned seeded init keeps its hash", () => {
    const params = initParams(mlp.spec, "protolearn/test/init");
    assert.equal(modelHash(mlp.spec, params), modelHash(mlp.spec, params.slice()));
    assert.equal(modelHash(mlp.spec, params), PINNED_MLP_HASH);
  });

  it("changing one weight, the model id or a shape changes the hash", () => {
    const params = initParams(mlp.spec, "protolearn/test/init");
    const base = modelHash(mlp.spec, params);
    const tweaked = params.slice();
    tweaked[123_456] = Math.fround((tweaked[123_456] as number) + 1e-7);
    assert.notEqual(tweaked[123_456], params[123_456]);
    assert.notEqual(modelHash(mlp.spec, tweaked), base);
    assert.notEqual(modelHash({ ...mlp.spec, id: "mnist-mlp-v2" }, params), base);
    // Same values, shapes [784,256] and [256] swapped for [256,784] and [256]: a different layout.
    const reshaped = {
      ...mlp.spec,
      params: mlp.spec.params.map((p, i) => (i === 0 ? { ...p, shape: [256, 784] } : p)),
    };
    assert.notEqual(modelHash(reshaped, params), base);
  });

  it("the canonical serialization is magic, id, shapes, then float32 little-endian values", () => {
    const tiny = createMlp({ id: "t", layers: [2, 1] });
    const params = Float32Array.from([1.5, -2, 0.25]);
    const bytes = serializeModel(tiny.spec, params);
    const expected = [
      ...MODEL_MAGIC,
      ...[1, 0, 0x74], // idLen = 1, "t"
      ...[2, 0], // two tensors
      ...[2, 2, 0, 0, 0, 1, 0, 0, 0], // rank 2: [2, 1]
      ...[1, 1, 0, 0, 0], // rank 1: [1]
      ...[0x00, 0x00, 0xc0, 0x3f], // 1.5
      ...[0x00, 0x00, 0x00, 0xc0], // -2
      ...[0x00, 0x00, 0x80, 0x3e], // 0.25
    ];
    assert.equal(bytesToHex(bytes), bytesToHex(Uint8Array.from(expected)));
  });

  it("refuses to hash non-finite parameters or a vector of the wrong length", () => {
    const params = initParams(mlp.spec, "s");
    params[7] = Number.NaN;
    assert.throws(
      () => modelHash(mlp.spec, params),
      (e: unknown) => e instanceof ProtolearnError && e.code === "MODEL_NON_FINITE",
    );
    assert.throws(
      () => modelHash(mlp.spec, new Float32Array(10)),
      (e: unknown) =>
        e instanceof ProtolearnError &&
        e.code === "MODEL_PARAM_LENGTH" &&
        e.message.includes("203530"),
    );
  });

  it("createModel knows the three model ids and refuses others", () => {
    assert.equal(createModel("mnist-mlp-v1").spec.id, "mnist-mlp-v1");
    assert.equal(createModel("mnist-cnn-v1").spec.id, "mnist-cnn-v1");
    assert.equal(
      createModel("char-mlp-v1", { contextLength: 4, vocabularySize: 5 }).spec.inputSize,
      20,
    );
    assert.throws(
      () => createModel("char-mlp-v1"),
      (e: unknown) => e instanceof ProtolearnError && e.code === "MODEL_MISSING_OPTIONS",
    );
    assert.throws(
      () => createModel("gpt-5"),
      (e: unknown) => e instanceof ProtolearnError && e.code === "MODEL_UNKNOWN",
    );
  });
});

describe("model lookup from a run's model id", () => {
  it("modelNameForId inverts modelIdFromName (any hex case); modelForRun builds the run's model or refuses", () => {
    for (const name of ["mnist-mlp-v1", "mnist-cnn-v1", "char-mlp-v1"] as const) {
      assert.equal(modelNameForId(modelIdFromName(name)), name);
      assert.equal(
        modelNameForId(modelIdFromName(name).toUpperCase().replace("0X", "0x") as Hex),
        name,
      );
    }
    assert.equal(modelNameForId(modelIdFromName("gpt-5")), undefined);
    assert.equal(modelForRun(modelIdFromName("mnist-mlp-v1")).spec.id, "mnist-mlp-v1");
    assert.equal(modelForRun(modelIdFromName("mnist-cnn-v1")).spec.id, "mnist-cnn-v1");
    for (const name of ["gpt-5", "char-mlp-v1"]) {
      assert.throws(
        () => modelForRun(modelIdFromName(name)),
        (e: unknown) => e instanceof ProtolearnError && e.code === "MODEL_UNSUPPORTED",
      );
    }
  });
});

describe("flatten / unflatten on the wasm backend", () => {
  before(async () => {
    await selectBackend({ backend: "wasm" });
  });

  for (const model of [
    createMnistMlp(),
    createMnistCnn(),
    createCharMlp({ contextLength: 3, vocabularySize: 7 }),
  ]) {
    it(`${model.spec.id} round-trips bit for bit through backend tensors`, () => {
      const flat = initParams(model.spec, "round-trip");
      const before = tf.memory().numTensors;
      const tensors = unflattenParams(model.spec, flat);
      assert.deepEqual(
        tensors.map((t) => t.shape),
        model.spec.params.map((p) => [...p.shape]),
      );
      const back = flattenParams(model.spec, tensors);
      tf.dispose(tensors);
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(new Uint8Array(back.buffer), new Uint8Array(flat.buffer));
    });
  }
});

describe("flatten / unflatten on the cpu backend", () => {
  it("uploaded tensors do not alias the flat vector", async () => {
    await selectBackend({ backend: "cpu" });
    const model = createMlp({ id: "alias", layers: [3, 2] });
    const flat = initParams(model.spec, "alias");
    const tensors = unflattenParams(model.spec, flat);
    const before = Array.from(tensors[0]?.dataSync() ?? []);
    flat.fill(42);
    assert.deepEqual(Array.from(tensors[0]?.dataSync() ?? []), before);
    tf.dispose(tensors);
  });
});

describe("gradients", () => {
  it("the MLP's hand-written gradients equal tf.grad on wasm (784-256-10, batch 32)", async () => {
    await selectBackend({ backend: "wasm" });
    const model = createMnistMlp();
    const params = unflattenParams(model.spec, initParams(model.spec, "grad-check"));
    const { x, y } = randomBatch(model, 32, "grad-batch");
    const manual = model.lossAndGradients(params, x, y);
    const reference = autodiffLossAndGradients(model, params, x, y);
    const lossManual = manual.loss.dataSync()[0] as number;
    const lossReference = reference.loss.dataSync()[0] as number;
    assert.ok(
      Math.abs(lossManual - lossReference) < 1e-5,
      `loss ${lossManual} vs ${lossReference}`,
    );
    const error = relativeGradientError(manual.gradients, reference.gradients);
    assert.ok(error < 1e-4, `relative gradient error ${error}`);
    tf.dispose([params, x, y, manual.loss, manual.gradients, reference.loss, reference.gradients]);
  });

  it("a deeper MLP (three hidden layers, some dead ReLUs) also matches tf.grad", async () => {
    await selectBackend({ backend: "wasm" });
    const model = createMlp({ id: "deep", layers: [20, 16, 12, 8, 5] });
    const flat = initParams(model.spec, "deep");
    // Negative biases kill part of the ReLUs, so the mask is exercised.
    splitParams(model.spec, flat)[1]?.fill(-0.3);
    const params = unflattenParams(model.spec, flat);
    const { x, y } = randomBatch(model, 9, "deep-batch");
    const manual = model.lossAndGradients(params, x, y);
    const reference = autodiffLossAndGradients(model, params, x, y);
    const error = relativeGradientError(manual.gradients, reference.gradients);
    assert.ok(error < 1e-4, `relative gradient error ${error}`);
    tf.dispose([params, x, y, manual.loss, manual.gradients, reference.loss, reference.gradients]);
  });

  it("the CNN's conv filter gradient equals TensorFlow.js's own conv2d gradient (cpu backend)", async () => {
    // The cpu backend has Conv2DBackpropFilter, so stock autodiff gives the reference there.
    await selectBackend({ backend: "cpu" });
    const model = createMnistCnn();
    const params = unflattenParams(model.spec, initParams(model.spec, "cnn-grad"));
    const { x, y } = randomBatch(model, 4, "cnn-batch");
    const ours = model.lossAndGradients(params, x, y);
    const stock = tf.tidy(() => {
      const targets = tf.cast(tf.oneHot(y, 10), "float32");
      const f = (...ps: tf.Tensor[]): tf.Scalar => {
        const [k0, b0, k1, b1, w, b] = ps as [
          tf.Tensor4D,
          tf.Tensor1D,
          tf.Tensor4D,
          tf.Tensor1D,
          tf.Tensor2D,
          tf.Tensor1D,
        ];
        const image = tf.reshape(x, [-1, 28, 28, 1]) as tf.Tensor4D;
        const h0 = tf.maxPool(
          tf.relu(tf.add(tf.conv2d(image, k0, 1, "same"), b0)) as tf.Tensor4D,
          2,
          2,
          "valid",
        );
        const h1 = tf.maxPool(
          tf.relu(tf.add(tf.conv2d(h0, k1, 1, "same"), b1)) as tf.Tensor4D,
          2,
          2,
          "valid",
        );
        const logits = tf.add(tf.matMul(tf.reshape(h1, [-1, 784]), w), b);
        return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      };
      return tf.valueAndGrads(f)(params);
    });
    assert.ok(
      Math.abs((ours.loss.dataSync()[0] as number) - (stock.value.dataSync()[0] as number)) < 1e-5,
    );
    const error = relativeGradientError(ours.gradients, stock.grads);
    assert.ok(error < 1e-4, `relative gradient error ${error}`);
    tf.dispose([params, x, y, ours.loss, ours.gradients, stock.value, stock.grads]);
  });

  it("the CNN computes its gradients on wasm, which has no Conv2DBackpropFilter kernel", async () => {
    await selectBackend({ backend: "wasm" });
    const model = createMnistCnn();
    const params = unflattenParams(model.spec, initParams(model.spec, "cnn-wasm"));
    const { x, y } = randomBatch(model, 4, "cnn-wasm-batch");
    const { loss, gradients } = model.lossAndGradients(params, x, y);
    assert.ok(Number.isFinite(loss.dataSync()[0]));
    assert.ok(
      gradients.every((g) => (tf.max(tf.abs(g)).dataSync()[0] as number) > 0),
      "every tensor gets a gradient",
    );
    tf.dispose([params, x, y, loss, gradients]);
  });
});
