import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as tf from "@tensorflow/tfjs-core";

import { DEFAULT_RUN_PARAMS, LM_RUN_PARAMS } from "../../ignition/modules/defaults.js";
import { modelIdFromName } from "../../node/src/codec/model-id.js";
import { loadRunDataset } from "../../node/src/data/run-dataset.js";
import { runModelName } from "../../node/src/deploy/deploy-system.js";
import { devnetParameters, parseStartOptions, START_PROFILES } from "../../node/src/devnet/start-options.js";
import { ProtolearnError } from "../../node/src/errors.js";
import { evaluateBitsPerByte } from "../../node/src/model/bits-per-byte.js";
import { generateBytes, printableText } from "../../node/src/model/generate.js";
import { flattenParams, initParams, unflattenParams } from "../../node/src/model/params.js";
import { createModel, evalMetricForId, modelForRun } from "../../node/src/model/registry.js";
import { createByteTransformer, isByteTransformer, MAX_WINDOWS_PER_PASS } from "../../node/src/model/transformer.js";
import { LM_SIM_DEFAULTS } from "../../node/src/round/sim/sim-config.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { evaluate, evaluateAsync, evaluateBatch } from "../../node/src/train/evaluate.js";
import { TINY, tinyDataset } from "./helpers/tiny-lm.js";

/**
 * The byte-level language model as a run trains it (issue 12, item 4): text generation from a
 * model's parameters, the held-out score a validator attests (bits per byte), batches larger than
 * one pass, the run's dataset and model lookups, and the options of `npm start --model`. Tiny
 * models keep it to seconds; the whole network runs in `npm start -- --model byte-transformer-v1`.
 */


const isError = (code: string, fixIncludes?: string) => (e: unknown) =>
  e instanceof ProtolearnError && e.code === code && (fixIncludes === undefined || (e.fix ?? "").includes(fixIncludes));

/** TINY trained by plain gradient descent on "abcd" repeated: it learns the cycle. */
function trainedOnCycle(): Float32Array {
  const model = createByteTransformer(TINY);
  const bytes = new TextEncoder().encode("abcd".repeat(20));
  const rows: number[][] = [];
  for (let offset = 0; offset < 8; offset++) rows.push(Array.from(bytes.subarray(offset, offset + TINY.context + 1)));
  const x = tf.tensor2d(rows, undefined, "float32");
  const y = tf.tensor1d(rows.map((r) => r[TINY.context] as number), "int32");
  let params = unflattenParams(model.spec, initParams(model.spec, "lm-run/cycle"));
  for (let step = 0; step < 40; step++) {
    const { loss, gradients } = model.lossAndGradients(params, x, y);
    const next = tf.tidy(() => params.map((p, i) => tf.sub(p, tf.mul(gradients[i] as tf.Tensor, 0.5))));
    tf.dispose([loss, ...gradients, ...params]);
    params = next;
  }
  const flat = flattenParams(model.spec, params);
  tf.dispose([x, y, ...params]);
  return flat;
}

describe("text generation from a byte-level language model", () => {
  before(async () => {
    await selectBackend({ backend: "wasm" });
  });

  it("greedily continues what the model learned, past its context window, the same every time", async () => {
    const model = createByteTransformer(TINY);
    const params = trainedOnCycle();
    const before = tf.memory().numTensors;
    // 6 prompt bytes + 30 generated: the model sees only the last 16 from byte 11 on.
    const greedy = await generateBytes(model, params, "abcdab", { maxBytes: 30 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(greedy.text, "cdab".repeat(8).slice(0, 30));
    assert.deepEqual(Array.from(greedy.prompt), Array.from(new TextEncoder().encode("abcdab")));
    assert.equal(greedy.continuation.length, 30);
    assert.deepEqual(await generateBytes(model, params, "abcdab", { maxBytes: 30 }), greedy);
    // Sampling at temperature 1 from a model this sure of the next byte gives the same cycle.
    const sampled = await generateBytes(model, params, new TextEncoder().encode("abcdab"), { maxBytes: 30, temperature: 1, seed: "s" });
    assert.equal(sampled.text, greedy.text);
  });

  it("seeded sampling is deterministic per seed and differs between seeds", async () => {
    const model = createByteTransformer(TINY);
    const params = initParams(model.spec, "lm-run/untrained");
    const draw = (seed: string) => generateBytes(model, params, "The ", { maxBytes: 24, temperature: 1, seed });
    const a = await draw("one");
    assert.deepEqual((await draw("one")).continuation, a.continuation);
    assert.notDeepEqual((await draw("two")).continuation, a.continuation);
    // An untrained model spreads its guesses over all 256 bytes: not one byte repeated.
    assert.ok(new Set(a.continuation).size > 4, `${a.continuation.join(",")}`);
  });

  it("refuses an empty prompt, bad options and parameters of another model, saying what to pass", async () => {
    const model = createByteTransformer(TINY);
    const params = initParams(model.spec, "lm-run/untrained");
    await assert.rejects(generateBytes(model, params, "", { maxBytes: 4 }), isError("MODEL_BAD_GENERATION", "at least one byte"));
    for (const options of [{ maxBytes: 0 }, { maxBytes: 1.5 }, { maxBytes: 5000 }, { maxBytes: 4, temperature: -1 }]) {
      await assert.rejects(generateBytes(model, params, "a", options), isError("MODEL_BAD_GENERATION", "maxBytes"));
    }
    await assert.rejects(generateBytes(model, params.subarray(1), "a", { maxBytes: 4 }), isError("MODEL_BAD_GENERATION", "flat parameters"));
  });

  it("printableText escapes control bytes for one terminal line and keeps text", () => {
    assert.equal(printableText("Union,\nand\u0007 \u00e9t\u00e9\u0000"), "Union,\\nand\\x07 \u00e9t\u00e9\\x00");
    assert.equal(printableText("\u007f\u0085"), "\\x7f\\x85");
  });
});

describe("a language model's held-out score and large batches", () => {
  before(async () => {
    await selectBackend({ backend: "wasm" });
  });

  it("evaluate reports held-out bits per byte as the loss a validator attests, with next-byte accuracy", async () => {
    const model = createByteTransformer(TINY);
    assert.ok(isByteTransformer(model));
    assert.ok(!isByteTransformer(createModel("mnist-mlp-v1")));
    const data = tinyDataset(TINY.context);
    const params = initParams(model.spec, "lm-run/eval");
    const score = evaluateBitsPerByte(model, params, data);
    const e = evaluate(model, params, data, { split: "eval" });
    assert.equal(e.loss, score.bitsPerByte);
    assert.equal(e.bitsPerByte, score.bitsPerByte);
    assert.equal(e.accuracy, score.accuracy);
    assert.equal(e.samples, 32);
    assert.ok(Math.abs(e.loss - 8) < 0.2, `${e.loss} bits per byte untrained`);
    assert.ok(e.accuracy >= 0 && e.accuracy < 0.05, `next-byte accuracy ${e.accuracy}`);
    assert.deepEqual(await evaluateAsync(model, params, data, { split: "eval" }), e);
    assert.equal(evaluate(model, params, data, { limit: 4 }).samples, 4);
  });

  it(`evaluateBatch and lossAndGradients take more windows than one pass (${MAX_WINDOWS_PER_PASS}) and equal the one-pass result`, () => {
    const model = createByteTransformer(TINY);
    const data = tinyDataset(TINY.context);
    const flat = initParams(model.spec, "lm-run/passes");
    const indices = Array.from({ length: 40 }, (_, i) => i * 3);
    const batch = data.batch("train", indices);
    const params = unflattenParams(model.spec, flat);
    const x = tf.tensor2d(batch.x, [batch.size, model.spec.inputSize]);
    const y = tf.tensor1d(batch.y, "int32");
    const before = tf.memory().numTensors;
    // One pass over all 40 windows (the tiny model fits), by autodiff of the sequence loss.
    const reference = tf.valueAndGrads((...ps: tf.Tensor[]) => model.sequenceLoss(ps, x))([...params]);
    const chunked = model.lossAndGradients(params, x, y);
    const loss = reference.value.dataSync()[0] as number;
    assert.ok(Math.abs((chunked.loss.dataSync()[0] as number) - loss) < 1e-5 * loss);
    const want = flattenParams(model.spec, reference.grads);
    const got = flattenParams(model.spec, chunked.gradients);
    let worst = 0;
    let scale = 0;
    want.forEach((g, i) => {
      worst = Math.max(worst, Math.abs(g - (got[i] as number)));
      scale = Math.max(scale, Math.abs(g));
    });
    assert.ok(worst / scale < 1e-5, `relative gradient difference ${worst / scale}`);
    tf.dispose([reference.value, ...reference.grads, chunked.loss, ...chunked.gradients]);
    assert.equal(tf.memory().numTensors, before);
    // The validator's loss on a batch: every position of every window, in nats.
    const scored = evaluateBatch(model, flat, batch);
    assert.ok(Math.abs(scored.loss - loss) < 1e-5 * loss, `${scored.loss} vs ${loss}`);
    assert.equal(scored.samples, 40);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y, ...params]);
  });
});

describe("a run of byte-transformer-v1", () => {
  it("the daemon's lookups build the transformer, its State of the Union windows and its bits-per-byte metric", async () => {
    const lm = modelIdFromName("byte-transformer-v1");
    const model = modelForRun(lm);
    assert.equal(model.spec.id, "byte-transformer-v1");
    assert.equal(evalMetricForId(lm), "bits-per-byte");
    assert.equal(evalMetricForId(modelIdFromName("mnist-mlp-v1")), "loss");
    assert.equal(evalMetricForId(modelIdFromName("gpt-5")), "loss");
    const data = await loadRunDataset(model);
    assert.match(data.id, /^sotu-v1:h10:[0-9a-f]{16}:c128$/);
    assert.deepEqual(data.exampleShape, [129]);
    assert.equal((await loadRunDataset(modelForRun(modelIdFromName("mnist-mlp-v1")))).numClasses, 10);
    const charModel = createModel("char-mlp-v1", { contextLength: 8, vocabularySize: 40 });
    await assert.rejects(loadRunDataset(charModel), isError("DATA_MODEL_UNSUPPORTED", "byte-transformer-v1"));
  });

  it("deploys run #1 with the genesis model its runParams.modelId names", () => {
    assert.equal(runModelName(undefined), "mnist-mlp-v1");
    assert.equal(runModelName({ runParams: DEFAULT_RUN_PARAMS }), "mnist-mlp-v1");
    assert.equal(runModelName({ runParams: LM_RUN_PARAMS }), "byte-transformer-v1");
    assert.throws(() => runModelName({ runParams: { modelId: modelIdFromName("gpt-5") } }), isError("DEPLOY_MODEL_UNKNOWN", "byte-transformer-v1"));
    assert.throws(() => runModelName({ runParams: { modelId: "lm" } }), isError("DEPLOY_MODEL_UNKNOWN"));
  });

  it("the LM run parameters are the simulation's measured LM defaults", () => {
    assert.equal(LM_RUN_PARAMS.modelId, modelIdFromName("byte-transformer-v1"));
    assert.equal(LM_RUN_PARAMS.innerSteps, LM_SIM_DEFAULTS.innerSteps);
    assert.equal(LM_RUN_PARAMS.batchSize, LM_SIM_DEFAULTS.batchSize);
    assert.equal(LM_RUN_PARAMS.innerLrPpm, Math.round(LM_SIM_DEFAULTS.innerLearningRate * 1e6));
    assert.equal(LM_RUN_PARAMS.outerLrPpm, Math.round(LM_SIM_DEFAULTS.outerLearningRate * 1e6));
    assert.equal(LM_RUN_PARAMS.outerMomentumPpm, Math.round(LM_SIM_DEFAULTS.outerMomentum * 1e6));
    assert.equal(LM_RUN_PARAMS.densityPpm, Math.round(LM_SIM_DEFAULTS.density * 1e6));
    assert.equal(LM_RUN_PARAMS.quantBits, LM_SIM_DEFAULTS.bits);
    assert.equal(LM_RUN_PARAMS.trimPpm, Math.round(LM_SIM_DEFAULTS.trimFraction * 1e6));
    assert.equal(LM_RUN_PARAMS.clipMultiplePpm, Math.round(LM_SIM_DEFAULTS.clipMultiple * 1e6));
  });
});

describe("npm start options", () => {
  it("keeps MNIST as the default main job and takes --model byte-transformer-v1 with its own H change and patience", () => {
    const mnist = parseStartOptions({ keep: false });
    assert.deepEqual(mnist, {
      model: "mnist-mlp-v1",
      rounds: 10,
      trainers: 4,
      validators: 2,
      adversary: "sign-flip",
      factor: 10,
      port: 8545,
      out: ".protolearn/devnet",
      newH: 50,
      keep: false,
    });
    const lm = parseStartOptions({ model: "byte-transformer-v1", rounds: "6", "new-h": "24", keep: true });
    assert.equal(lm.model, "byte-transformer-v1");
    assert.equal(lm.rounds, 6);
    assert.equal(lm.newH, 24);
    assert.equal(parseStartOptions({ model: "byte-transformer-v1" }).newH, START_PROFILES["byte-transformer-v1"].newH);
    assert.ok(START_PROFILES["byte-transformer-v1"].patienceMs > START_PROFILES["mnist-mlp-v1"].patienceMs);
    const params = devnetParameters("byte-transformer-v1");
    assert.equal(params.runParams.modelId, modelIdFromName("byte-transformer-v1"));
    assert.equal(params.runParams.innerSteps, 16);
    assert.equal(params.runParams.scoreDuration, START_PROFILES["byte-transformer-v1"].phaseSeconds);
    assert.equal(devnetParameters("mnist-mlp-v1").runParams.scoreDuration, 600);
    assert.equal(devnetParameters("mnist-mlp-v1").runParams.modelId, modelIdFromName("mnist-mlp-v1"));
  });

  it("names a bad flag and its fix", () => {
    assert.throws(() => parseStartOptions({ model: "gpt-5" }), isError("START_BAD_FLAG", "--model byte-transformer-v1"));
    assert.throws(() => parseStartOptions({ rounds: "ten" }), isError("START_BAD_FLAG", "--rounds"));
    assert.throws(() => parseStartOptions({ trainers: "16", validators: "4" }), isError("START_BAD_FLAG", "at most 19"));
    assert.throws(() => parseStartOptions({ adversary: "evil" }), isError("START_BAD_FLAG", "sign-flip"));
    assert.throws(() => parseStartOptions({ port: "70000" }), isError("START_BAD_FLAG", "--port"));
  });
});
