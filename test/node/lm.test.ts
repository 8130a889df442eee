import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as tf from "@tensorflow/tfjs-core";

import { shardBatchIndices } from "../../node/src/data/shard.js";
import {
  loadSotuAddresses,
  loadSotuCorpus,
  loadSotuDataset,
  parseSotuAddresses,
} from "../../node/src/data/sotu.js";
import { ProtolearnError } from "../../node/src/errors.js";
import { evaluateBitsPerByte, evenlySpacedIndices } from "../../node/src/model/bits-per-byte.js";
import { modelHash } from "../../node/src/model/hash.js";
import { flattenParams, initParams, unflattenParams } from "../../node/src/model/params.js";
import { createModel } from "../../node/src/model/registry.js";
import { parameterCount } from "../../node/src/model/spec.js";
import {
  createByteTransformer,
  DEFAULT_TRANSFORMER_CONFIG,
} from "../../node/src/model/transformer.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { innerLoop } from "../../node/src/train/inner-loop.js";
import { TINY, tinyDataset } from "./helpers/tiny-lm.js";

/** Pinned: keccak256 of the canonical serialization of `initParams(byte-transformer-v1, "protolearn/test/init")`. */
const PINNED_TRANSFORMER_HASH =
  "0x6a5f92f4e01e588896516ee63dc6010248aff90a07d72603a53f340873af753a";


function windows(bytes: number[][]): tf.Tensor2D {
  return tf.tensor2d(bytes, undefined, "int32");
}

describe("byte-transformer-v1", () => {
  before(async () => {
    await selectBackend({ backend: "wasm" });
  });

  it("has 4 blocks of d_model 128, context 128 and 875,520 parameters", () => {
    const model = createModel("byte-transformer-v1");
    assert.equal(model.spec.id, "byte-transformer-v1");
    assert.equal(model.spec.inputSize, 129);
    assert.equal(model.spec.numClasses, 256);
    assert.deepEqual(model.spec.params[0]?.shape, [256, 128]);
    assert.deepEqual(model.spec.params[1]?.shape, [128, 128]);
    assert.equal(model.spec.params.length, 2 + 4 * 12 + 4);
    // 256·128 + 128·128 embeddings, 4 × 198,272 per block, 256 final LayerNorm, 128·256 + 256 head
    assert.equal(parameterCount(model.spec), 875_520);
  });

  it("seeded initialisation is deterministic: same seed, same hash; another seed, another hash", () => {
    const { spec } = createByteTransformer();
    const a = modelHash(spec, initParams(spec, "protolearn/test/init"));
    assert.equal(a, modelHash(spec, initParams(spec, "protolearn/test/init")));
    assert.equal(a, PINNED_TRANSFORMER_HASH);
    assert.notEqual(a, modelHash(spec, initParams(spec, "protolearn/test/other")));
  });

  it("gives logits [batch, length, 256] per position and [batch, 256] for the window's last byte", () => {
    const model = createByteTransformer();
    const params = unflattenParams(model.spec, initParams(model.spec, "lm/shape"));
    const before = tf.memory().numTensors;
    const bytes = Array.from({ length: 2 }, (_, r) =>
      Array.from({ length: 129 }, (_, i) => (r * 31 + i * 7) % 256),
    );
    const inputs = windows(bytes.map((row) => row.slice(0, 128)));
    const full = tf.tensor2d(bytes);
    const sequence = model.sequenceLogits(params, inputs);
    const last = model.logits(params, full);
    assert.deepEqual(sequence.shape, [2, 128, 256]);
    assert.deepEqual(last.shape, [2, 256]);
    const difference = tf.tidy(() => {
      const expected = tf.reshape(tf.slice(sequence, [0, 127, 0], [2, 1, 256]), [2, 256]);
      return tf.max(tf.abs(tf.sub(expected, last))).dataSync()[0] as number;
    });
    assert.ok(difference < 1e-5);
    tf.dispose([inputs, full, sequence, last]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(params);
  });

  it("is causal: changing a later byte does not change any earlier position's logits", () => {
    const model = createByteTransformer();
    const params = unflattenParams(model.spec, initParams(model.spec, "lm/causal"));
    const row = Array.from({ length: 128 }, (_, i) => (i * 13 + 5) % 256);
    const changed = [...row];
    changed[100] = (row[100] as number) ^ 0x55;
    const a = model.sequenceLogits(params, windows([row]));
    const b = model.sequenceLogits(params, windows([changed]));
    const earlier = (t: tf.Tensor3D): Float32Array =>
      tf.slice(t, [0, 0, 0], [1, 100, 256]).dataSync() as Float32Array;
    assert.deepEqual(earlier(a), earlier(b));
    const at = (t: tf.Tensor3D, p: number): Float32Array =>
      tf.slice(t, [0, p, 0], [1, 1, 256]).dataSync() as Float32Array;
    assert.notDeepEqual(at(a, 100), at(b, 100));
    assert.notDeepEqual(at(a, 127), at(b, 127));
    tf.dispose([a, b, ...params]);
  });

  it("autodiff gradients on wasm equal the cpu backend's", async () => {
    const model = createByteTransformer(TINY);
    const flat = initParams(model.spec, "lm/grad");
    const data = tinyDataset(TINY.context);
    const batch = data.batch("train", [0, 3, 5, 7]);
    const gradientsOn = async (backend: "wasm" | "cpu"): Promise<Float32Array> => {
      await selectBackend({ backend });
      const params = unflattenParams(model.spec, flat);
      const x = tf.tensor2d(batch.x, [batch.size, model.spec.inputSize]);
      const y = tf.tensor1d(batch.y, "int32");
      const { loss, gradients } = model.lossAndGradients(params, x, y);
      const out = flattenParams(model.spec, gradients);
      tf.dispose([loss, ...gradients, ...params, x, y]);
      return out;
    };
    const cpu = await gradientsOn("cpu");
    const wasm = await gradientsOn("wasm");
    let worst = 0;
    let scale = 0;
    cpu.forEach((g, i) => {
      worst = Math.max(worst, Math.abs(g - (wasm[i] as number)));
      scale = Math.max(scale, Math.abs(g));
    });
    assert.ok(scale > 0);
    assert.ok(worst / scale < 1e-4, `relative gradient difference ${worst / scale}`);
  });

  it("a few plain gradient-descent steps on a tiny corpus slice lower the training loss", () => {
    const model = createByteTransformer(TINY);
    const data = tinyDataset(TINY.context);
    const batch = data.batch("train", [0, 1, 2, 3, 4, 5, 6, 7]);
    const x = tf.tensor2d(batch.x, [batch.size, model.spec.inputSize]);
    const y = tf.tensor1d(batch.y, "int32");
    let params = unflattenParams(model.spec, initParams(model.spec, "lm/train"));
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const { loss, gradients } = model.lossAndGradients(params, x, y);
      losses.push(loss.dataSync()[0] as number);
      const next = tf.tidy(() =>
        params.map((p, i) => tf.sub(p, tf.mul(gradients[i] as tf.Tensor, 0.5))),
      );
      tf.dispose([loss, ...gradients, ...params]);
      params = next;
    }
    assert.equal(tf.memory().numTensors, before);
    const first = losses[0] as number;
    const last = losses.at(-1) as number;
    assert.ok(Math.abs(first - Math.log(256)) < 0.1, `initial loss ${first} ≈ ln 256`);
    assert.ok(last < first - 1, `loss ${first} → ${last}`);
    tf.dispose([x, y, ...params]);
  });

  it("runs in the DiLoCo inner loop unchanged, on the node's shard of byte windows", async () => {
    const model = createByteTransformer(TINY);
    const data = tinyDataset(TINY.context);
    const globalParams = initParams(model.spec, "lm/inner");
    const before = tf.memory().numTensors;
    const result = await innerLoop({
      model,
      dataset: data,
      globalParams,
      seed: `0x${"33".repeat(32)}`,
      node: "0x00000000000000000000000000000000000000cc",
      steps: 2,
      batchSize: 4,
      numShards: 2,
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(result.losses.length, 2);
    assert.ok(result.losses.every((l) => Math.abs(l - Math.log(256)) < 0.2));
    assert.equal(result.params.length, globalParams.length);
    assert.ok(result.params.every(Number.isFinite));
    assert.notDeepEqual(result.params, globalParams);
  });

  it("an untrained model scores about 8 bits per byte on the held-out addresses", () => {
    const model = createByteTransformer();
    const data = loadSotuDataset(DEFAULT_TRANSFORMER_CONFIG.context);
    const flat = initParams(model.spec, "lm/bpb");
    const before = tf.memory().numTensors;
    const score = evaluateBitsPerByte(model, flat, data);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(score.windows, 32);
    assert.equal(score.bytes, 32 * 128);
    assert.ok(Math.abs(score.bitsPerByte - 8) < 0.1, `${score.bitsPerByte} bits per byte`);
    assert.equal(score.bitsPerByte, score.loss / Math.LN2);
    // The same subset on a second run: the same number on one backend.
    assert.equal(evaluateBitsPerByte(model, flat, data).bitsPerByte, score.bitsPerByte);
  });
});

describe("State of the Union byte corpus", () => {
  it("orders the 233 addresses by year, then president, and holds out every 10th, disjoint from training", () => {
    const corpus = loadSotuCorpus();
    assert.equal(corpus.documents.train.length, 210);
    assert.equal(corpus.documents.eval.length, 23);
    assert.deepEqual(corpus.documents.eval.slice(0, 2), ["1799 John Adams", "1809 James Madison"]);
    const train = new Set(corpus.documents.train);
    assert.equal(train.size, 210);
    assert.ok(corpus.documents.eval.every((key) => !train.has(key)));
    const years = loadSotuAddresses().map((a) => a.year);
    assert.deepEqual(
      years,
      [...years].sort((a, b) => a - b),
    );
    // Deterministic: a second load gives the same id and bytes.
    const again = loadSotuCorpus();
    assert.equal(again.id, corpus.id);
    assert.deepEqual(again.bytes.eval, corpus.bytes.eval);
    assert.match(corpus.id, /^sotu-v1:h10:[0-9a-f]{16}$/);
    assert.notEqual(loadSotuCorpus({ heldOutEvery: 5 }).id, corpus.id);
  });

  it("serves (context + 1)-byte windows at fixed offsets that shards and seeded batches address unchanged", () => {
    const data = loadSotuDataset(128);
    assert.deepEqual(data.exampleShape, [129]);
    assert.equal(data.numClasses, 256);
    assert.equal(data.size.train, Math.floor((data.corpus.bytes.train.length - 1) / 128));
    const indices = shardBatchIndices({
      seed: `0x${"11".repeat(32)}`,
      node: "0x00000000000000000000000000000000000000aa",
      step: 3,
      batchSize: 4,
      trainSize: data.size.train,
      shard: 2,
      numShards: 8,
    });
    const batch = data.batch("train", indices);
    indices.forEach((index, row) => {
      const window = data.corpus.bytes.train.subarray(index * 128, index * 128 + 129);
      assert.deepEqual(
        Array.from(batch.x.subarray(row * 129, row * 129 + 129)),
        Array.from(window),
      );
      assert.equal(batch.y[row], window[128]);
    });
    assert.throws(
      () => data.batch("eval", [data.size.eval]),
      (e: unknown) => e instanceof ProtolearnError && e.code === "DATA_INDEX_RANGE",
    );
  });

  it("scores a fixed, evenly spread subset of held-out windows", () => {
    assert.deepEqual(evenlySpacedIndices(100, 4), [0, 25, 50, 75]);
    assert.deepEqual(evenlySpacedIndices(3, 8), [0, 1, 2]);
  });

  it("refuses malformed package data with an error that names the reinstall", () => {
    for (const raw of [undefined, [{ year: 1790, name: "x" }], "text"]) {
      assert.throws(
        () => parseSotuAddresses(raw),
        (e: unknown) =>
          e instanceof ProtolearnError &&
          e.code === "DATA_SOTU_CORRUPT" &&
          (e.fix ?? "").includes("npm ci"),
      );
    }
  });
});
