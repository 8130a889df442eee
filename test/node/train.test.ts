import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { before, describe, it } from "node:test";

import * as tf from "@tensorflow/tfjs-core";
import type { Address, Hex } from "viem";

import type { Dataset } from "../../node/src/data/dataset.js";
import { loadMnist } from "../../node/src/data/mnist.js";
import { assignShard, shardBatch } from "../../node/src/data/shard.js";
import { loadTextDataset } from "../../node/src/data/text.js";
import { ProtolearnError } from "../../node/src/errors.js";
import { createCharMlp } from "../../node/src/model/char-mlp.js";
import { createMnistCnn } from "../../node/src/model/cnn.js";
import { createMlp, createMnistMlp } from "../../node/src/model/mlp.js";
import { initParams, unflattenParams, flattenParams } from "../../node/src/model/params.js";
import { createDdpBaseline } from "../../node/src/round/sim/ddp-baseline.js";
import { parseSimFlags, simRunParams } from "../../node/src/round/sim/sim-config.js";
import { adamWOptionsSchema, createAdamW } from "../../node/src/train/adamw.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { evaluate, evaluateBatch } from "../../node/src/train/evaluate.js";
import { innerLoop } from "../../node/src/train/inner-loop.js";
import { outerStep, pseudoGradient } from "../../node/src/train/outer-step.js";

const SEED: Hex = `0x${"5e".repeat(32)}`;
const NODE_A: Address = "0xa0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0";
const NODE_B: Address = "0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

/** θ after AdamW steps with the given flat gradients, flat (tensors disposed). */
function runAdamW(
  model: ReturnType<typeof createMlp>,
  theta0: Float32Array,
  grads: Float32Array[],
  options: ReturnType<typeof adamWOptionsSchema.parse>,
): Float32Array {
  let params = unflattenParams(model.spec, theta0);
  const adam = createAdamW(model.spec, params, options);
  for (const g of grads) {
    const gt = unflattenParams(model.spec, g);
    params = adam.step(params, gt);
    tf.dispose(gt);
  }
  const got = flattenParams(model.spec, params);
  tf.dispose(params);
  adam.dispose();
  return got;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

describe("outer step (pure, float32 arrays)", () => {
  it("matches a hand-computed Nesterov step", () => {
    const params = Float32Array.from([1, -2, 0.5, 4]);
    const delta = Float32Array.from([0.5, 0.25, -1, 0]);
    const momentum = Float32Array.from([0.25, 0, 0.5, -1]);
    const out = outerStep({ params, delta, momentum, learningRate: 0.5, momentumCoefficient: 0.5 });
    // b = μ·b + Δ;  θ = θ − η·(Δ + μ·b)
    assert.deepEqual(Array.from(out.momentum), [0.625, 0.25, -0.75, -0.5]);
    assert.deepEqual(Array.from(out.params), [0.59375, -2.1875, 1.1875, 4.125]);
    // Inputs untouched.
    assert.deepEqual(Array.from(params), [1, -2, 0.5, 4]);
    assert.deepEqual(Array.from(momentum), [0.25, 0, 0.5, -1]);
  });

  it("uses DiLoCo's defaults (lr 0.7, momentum 0.9), zero momentum in the first round, one float32 rounding per stored value", () => {
    const params = Float32Array.from([0.1, -0.3, 1e-3]);
    const delta = Float32Array.from([0.01, 0.2, -3e-4]);
    const first = outerStep({ params, delta, momentum: undefined });
    assert.deepEqual(first.momentum, delta);
    const expected = Float32Array.from(
      [0, 1, 2],
      (i) => (params[i] as number) - 0.7 * ((delta[i] as number) + 0.9 * (delta[i] as number)),
    );
    assert.ok(sameBits(first.params, expected));
    const second = outerStep({ params: first.params, delta, momentum: first.momentum });
    const b = Float32Array.from(
      [0, 1, 2],
      (i) => 0.9 * (first.momentum[i] as number) + (delta[i] as number),
    );
    const theta = Float32Array.from(
      [0, 1, 2],
      (i) => (first.params[i] as number) - 0.7 * ((delta[i] as number) + 0.9 * (b[i] as number)),
    );
    assert.ok(sameBits(second.momentum, b));
    assert.ok(sameBits(second.params, theta));
  });

  it("refuses mismatched lengths and out-of-range settings", () => {
    const p = new Float32Array(3);
    const isCode = (code: string) => (e: unknown) =>
      e instanceof ProtolearnError && e.code === code;
    assert.throws(
      () => outerStep({ params: p, delta: new Float32Array(2), momentum: undefined }),
      isCode("TRAIN_OUTER_LENGTH"),
    );
    assert.throws(
      () => outerStep({ params: p, delta: p, momentum: new Float32Array(4) }),
      isCode("TRAIN_OUTER_LENGTH"),
    );
    assert.throws(
      () => outerStep({ params: p, delta: p, momentum: undefined, momentumCoefficient: 1 }),
      isCode("TRAIN_OUTER_SETTINGS"),
    );
    assert.throws(
      () => outerStep({ params: p, delta: p, momentum: undefined, learningRate: 0 }),
      isCode("TRAIN_OUTER_SETTINGS"),
    );
  });

  it("pseudoGradient is θ_global − θ_local", () => {
    const delta = pseudoGradient(Float32Array.from([1, 2, 3]), Float32Array.from([0.5, 2.5, 3]));
    assert.deepEqual(Array.from(delta), [0.5, -0.5, 0]);
  });
});

describe("AdamW", () => {
  before(async () => {
    await selectBackend({ backend: "wasm" });
  });

  it("two steps match a float64 reference of the AdamW update (decay on kernels only)", () => {
    const model = createMlp({ id: "tiny", layers: [3, 2] });
    const options = adamWOptionsSchema.parse({ learningRate: 0.1, weightDecay: 0.5 });
    const theta0 = Float32Array.from([0.5, -0.25, 1, 2, -1, 0.125, 0.75, -0.5]);
    const grads = [
      Float32Array.from([0.3, -0.2, 0.1, 0, 4, -4, 0.01, -0.02]),
      Float32Array.from([-1, 0.5, 0.25, 0.2, -0.3, 0.1, 2, 0]),
    ];
    const got = runAdamW(model, theta0, grads, options);
    // Reference: m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), θ ← θ − lr·(m̂/(√v̂+ε) + λθ·[kernel]).
    const m = new Float64Array(8);
    const v = new Float64Array(8);
    const theta = Float64Array.from(theta0);
    grads.forEach((g, t) => {
      for (let i = 0; i < 8; i++) {
        const gi = g[i] as number;
        m[i] = 0.9 * (m[i] as number) + 0.1 * gi;
        v[i] = 0.999 * (v[i] as number) + 0.001 * gi * gi;
        const mHat = (m[i] as number) / (1 - 0.9 ** (t + 1));
        const vHat = (v[i] as number) / (1 - 0.999 ** (t + 1));
        const decay = i < 6 ? 0.5 * (theta[i] as number) : 0; // first 6 values: the [3,2] kernel
        theta[i] = (theta[i] as number) - 0.1 * (mHat / (Math.sqrt(vHat) + 1e-8) + decay);
      }
    });
    for (let i = 0; i < 8; i++)
      assert.ok(
        Math.abs((got[i] as number) - (theta[i] as number)) < 1e-6,
        `θ[${i}] = ${got[i]}, reference ${theta[i]}`,
      );
  });
  it("gives the bits of a value-by-value float32 update (the kernels are plain IEEE float32 operations)", () => {
    // Pins the update's exact arithmetic, so that a faster arrangement (fused, flat, a typed-array
    // loop) can be checked to leave every trainer's local steps unchanged.
    const model = createMlp({ id: "bits", layers: [200, 100, 10] });
    const options = adamWOptionsSchema.parse({ learningRate: 0.01, weightDecay: 0.1 });
    const theta0 = initParams(model.spec, "adamw-bits");
    const grads = [1, 2, 3].map((k) => initParams(model.spec, `adamw-bits-g${k}`));
    const got = runAdamW(model, theta0, grads, options);
    // Reference: each operation of createAdamW's update rounded to float32, value by value.
    const f = Math.fround;
    const n = theta0.length;
    const theta = Float32Array.from(theta0);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const decayed = new Uint8Array(n);
    let offset = 0;
    for (const p of model.spec.params) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      if (p.decay) decayed.fill(1, offset, offset + size);
      offset += size;
    }
    const keep = f(1 - 0.01 * 0.1);
    grads.forEach((g, t) => {
      const c2 = Math.sqrt(1 - 0.999 ** (t + 1));
      const lrT = f((0.01 * c2) / (1 - 0.9 ** (t + 1)));
      const epsT = f(1e-8 * c2);
      for (let i = 0; i < n; i++) {
        const gi = g[i] as number;
        const mi = f(f((m[i] as number) * f(0.9)) + f(gi * f(1 - 0.9)));
        const vi = f(f((v[i] as number) * f(0.999)) + f(f(gi * gi) * f(1 - 0.999)));
        m[i] = mi;
        v[i] = vi;
        const th = decayed[i] === 1 ? f((theta[i] as number) * keep) : (theta[i] as number);
        theta[i] = f(th - f(f(mi / f(f(Math.sqrt(vi)) + epsT)) * lrT));
      }
    });
    let differing = 0;
    for (let i = 0; i < n; i++) if (!Object.is(got[i], theta[i])) differing += 1;
    assert.equal(differing, 0, `${differing} of ${n} values differ from the float32 reference`);
  });
});

describe("inner loop and evaluation on MNIST (wasm)", () => {
  let mnist: Dataset;
  before(async () => {
    await selectBackend({ backend: "wasm" });
    mnist = await loadMnist();
  });

  it("an untrained MLP is at chance; evaluateBatch agrees with evaluate", () => {
    const model = createMnistMlp();
    const params = initParams(model.spec, "chance");
    const result = evaluate(model, params, mnist, { limit: 400, batchSize: 150 });
    assert.equal(result.samples, 400);
    assert.ok(result.accuracy > 0.02 && result.accuracy < 0.25, `accuracy ${result.accuracy}`);
    assert.ok(Math.abs(result.loss - Math.log(10)) < 0.5, `loss ${result.loss}`);
    const same = evaluateBatch(
      model,
      params,
      mnist.batch(
        "eval",
        Array.from({ length: 400 }, (_, i) => i),
      ),
    );
    assert.ok(Math.abs(same.loss - result.loss) < 1e-5);
    assert.equal(same.accuracy, result.accuracy);
  });

  it("a few AdamW steps on the node's shard reduce the held-out loss", async () => {
    const model = createMnistMlp();
    const globalParams = initParams(model.spec, "inner");
    const before = evaluate(model, globalParams, mnist, { limit: 500 });
    const tensorsBefore = tf.memory().numTensors;
    const result = await innerLoop({
      model,
      dataset: mnist,
      globalParams,
      seed: SEED,
      node: NODE_A,
      steps: 20,
      batchSize: 32,
    });
    assert.equal(tf.memory().numTensors, tensorsBefore, "no backend tensors leak");
    assert.equal(result.losses.length, 20);
    assert.equal(result.samples, 640);
    assert.equal(result.shard, assignShard(SEED, NODE_A, 8));
    const after = evaluate(model, result.params, mnist, { limit: 500 });
    assert.ok(after.loss < before.loss - 0.8, `held-out loss ${before.loss} → ${after.loss}`);
    assert.ok(after.accuracy > 0.6, `held-out accuracy ${after.accuracy}`);
    // The first loss is the loss of the global parameters on batch 0 of the shard.
    const batch0 = evaluateBatch(model, globalParams, shardBatch(mnist, SEED, NODE_A, 0, 32));
    assert.ok(Math.abs((result.losses[0] as number) - batch0.loss) < 1e-4);
    assert.ok(
      sameBits(globalParams, initParams(model.spec, "inner")),
      "global parameters untouched",
    );
  });

  it("is deterministic: the same round inputs give the same bits; another node gives other parameters", async () => {
    const model = createMnistMlp();
    const globalParams = initParams(model.spec, "determinism");
    const run = (node: Address) =>
      innerLoop({ model, dataset: mnist, globalParams, seed: SEED, node, steps: 4, batchSize: 16 });
    const [a, b, c] = [await run(NODE_A), await run(NODE_A), await run(NODE_B)];
    assert.ok(sameBits(a.params, b.params));
    assert.deepEqual(a.losses, b.losses);
    assert.ok(!sameBits(a.params, c.params));
  });

  it("the DDP baseline of one node takes exactly the inner loop's steps (same bits, same losses)", async () => {
    // Both run the one shared train step; with one node the baseline's batch at step t is the
    // inner loop's batch t, so any drift between the two (a different step, batch or optimizer
    // setting) shows up here as different bits.
    const model = createMnistMlp();
    const globalParams = initParams(model.spec, "ddp-vs-inner");
    const params = simRunParams(parseSimFlags({ H: 5, batch: 16, lr: 0.003 }));
    const local = await innerLoop({
      model,
      dataset: mnist,
      globalParams,
      seed: SEED,
      node: NODE_A,
      steps: params.innerSteps,
      batchSize: params.batchSize,
      numShards: params.numShards,
      optimizer: { learningRate: params.innerLearningRate, weightDecay: params.weightDecay },
    });
    const baseline = createDdpBaseline({
      model,
      dataset: mnist,
      initialParams: globalParams,
      nodes: [NODE_A],
      params,
    });
    try {
      const { trainLoss } = await baseline.runRound(SEED);
      assert.ok(sameBits(await baseline.params(), local.params), "same parameters, bit for bit");
      const meanLoss = local.losses.reduce((a, b) => a + b, 0) / local.losses.length;
      assert.equal(trainLoss, meanLoss);
    } finally {
      baseline.dispose();
    }
  });

  it("H = 0 returns the global parameters; a mismatched model or an abort is refused", async () => {
    const model = createMnistMlp();
    const globalParams = initParams(model.spec, "h0");
    const zero = await innerLoop({
      model,
      dataset: mnist,
      globalParams,
      seed: SEED,
      node: NODE_A,
      steps: 0,
      batchSize: 8,
    });
    assert.ok(sameBits(zero.params, globalParams));
    assert.deepEqual(zero.losses, []);
    const wrong = createMlp({ id: "wrong", layers: [100, 10] });
    await assert.rejects(
      innerLoop({
        model: wrong,
        dataset: mnist,
        globalParams: initParams(wrong.spec, "w"),
        seed: SEED,
        node: NODE_A,
        steps: 1,
        batchSize: 8,
      }),
      (e: unknown) => e instanceof ProtolearnError && e.code === "TRAIN_MODEL_DATA_MISMATCH",
    );
    const tensorsBefore = tf.memory().numTensors;
    await assert.rejects(
      innerLoop({
        model,
        dataset: mnist,
        globalParams,
        seed: SEED,
        node: NODE_A,
        steps: 3,
        batchSize: 8,
        signal: AbortSignal.abort(),
      }),
      (e: unknown) => e instanceof ProtolearnError && e.code === "TRAIN_ABORTED",
    );
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it("one DiLoCo round of two nodes (inner loops, mean Δ, Nesterov outer step) lowers the held-out loss, and a second round lowers it further", async () => {
    const model = createMnistMlp();
    let global = initParams(model.spec, "diloco");
    let momentum: Float32Array | undefined;
    const losses = [evaluate(model, global, mnist, { limit: 500 }).loss];
    for (const [round, seed] of [`0x${"01".repeat(32)}`, `0x${"02".repeat(32)}`].entries()) {
      const deltas: Float32Array[] = [];
      for (const node of [NODE_A, NODE_B]) {
        const local = await innerLoop({
          model,
          dataset: mnist,
          globalParams: global,
          seed: seed as Hex,
          node,
          steps: 10,
          batchSize: 32,
        });
        deltas.push(pseudoGradient(global, local.params));
      }
      const mean = Float32Array.from(
        deltas[0] as Float32Array,
        (d, i) => (d + (deltas[1]?.[i] as number)) / 2,
      );
      ({ params: global, momentum } = outerStep({ params: global, delta: mean, momentum }));
      losses.push(evaluate(model, global, mnist, { limit: 500 }).loss);
      assert.ok(
        (losses[round + 1] as number) < (losses[round] as number),
        `held-out loss per round: ${losses.join(" → ")}`,
      );
    }
  });

  it("the CNN trains on wasm: a few inner steps reduce the loss on its own shard", async () => {
    const model = createMnistCnn();
    const globalParams = initParams(model.spec, "cnn");
    const result = await innerLoop({
      model,
      dataset: mnist,
      globalParams,
      seed: SEED,
      node: NODE_A,
      steps: 12,
      batchSize: 16,
      optimizer: { learningRate: 3e-3 },
    });
    const probe = shardBatch(mnist, SEED, NODE_A, 999, 128);
    const before = evaluateBatch(model, globalParams, probe).loss;
    const after = evaluateBatch(model, result.params, probe).loss;
    assert.ok(after < before - 0.3, `CNN loss on its shard ${before} → ${after}`);
  });
});

describe("char model on a text file", () => {
  it("learns the next character of a repetitive text", async () => {
    await selectBackend({ backend: "wasm" });
    const dir = await mkdtemp(path.join(tmpdir(), "protolearn-char-"));
    try {
      const file = path.join(dir, "text.txt");
      await writeFile(file, "the quick brown fox jumps over the lazy dog. ".repeat(40), "utf8");
      const text = await loadTextDataset(file, { contextLength: 8 });
      const model = createCharMlp({
        contextLength: text.contextLength,
        vocabularySize: text.numClasses,
        hidden: 64,
      });
      const globalParams = initParams(model.spec, "char");
      const before = evaluate(model, globalParams, text);
      const result = await innerLoop({
        model,
        dataset: text,
        globalParams,
        seed: SEED,
        node: NODE_A,
        steps: 40,
        batchSize: 32,
        numShards: 2,
        optimizer: { learningRate: 1e-2 },
      });
      const after = evaluate(model, result.params, text);
      assert.ok(after.loss < before.loss / 2, `held-out loss ${before.loss} → ${after.loss}`);
      assert.ok(after.accuracy > 0.8, `held-out next-char accuracy ${after.accuracy}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
