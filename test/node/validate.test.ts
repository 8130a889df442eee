import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import type { Address, Hex } from "viem";

import { aggregateUpdates, updateNorm } from "../../node/src/aggregate/index.js";
import { verifyReveal } from "../../node/src/audit/verify-reveal.js";
import {
  contentHash,
  decodeUpdate,
  encodeUpdate,
  modelIdFromName,
  toDense,
  type DecodedUpdate,
} from "../../node/src/codec/index.js";
import type { Dataset } from "../../node/src/data/dataset.js";
import { loadMnist } from "../../node/src/data/mnist.js";
import { assignShard, shardBatchIndices, shardRange } from "../../node/src/data/shard.js";
import { ProtolearnError } from "../../node/src/errors.js";
import type { Model } from "../../node/src/model/model.js";
import { createMnistMlp } from "../../node/src/model/mlp.js";
import { initParams } from "../../node/src/model/params.js";
import { MODEL_IDS, validationBatchSize } from "../../node/src/model/registry.js";
import { createByteTransformer } from "../../node/src/model/transformer.js";
import { createRng } from "../../node/src/random/index.js";
import { computeCid, HeliaBlobStore } from "../../node/src/storage/index.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { evaluateBatch } from "../../node/src/train/evaluate.js";
import { innerLoop } from "../../node/src/train/inner-loop.js";
import { pseudoGradient } from "../../node/src/train/outer-step.js";
import {
  cosineSimilarity,
  duplicateOf,
  FetchFailure,
  fetchUpdate,
  randomShard,
  relativeGain,
  scoreFromMeasurements,
  descentZ,
  DESCENT_Z_MIN,
  type LossPair,
  type ScoreMeasurements,
  scoreUpdate,
  topKJaccard,
  topKOfDense,
  duplicateOfPublic,
  UpdateIndex,
  validateRound,
  validationBatches,
  type RevealedUpdate,
  type SparseUpdate,
} from "../../node/src/validate/index.js";

const SEED: Hex = `0x${"7a".repeat(32)}`;
const ROUND = 1;
const H = 3;
const TRAIN_BATCH = 32;
const DENSITY = 0.01;
const MODEL_ID = modelIdFromName("mnist-mlp-v1");
const MAX_BYTES = 1 << 20;

const node = (byte: string): Address => `0x${byte.repeat(20)}` as Address;
const NODE_A = node("a1");
const NODE_B = node("b2");

function isCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof ProtolearnError && error.code === code;
}

function scaled(values: Float32Array, factor: number): Float32Array {
  return Float32Array.from(values, (v) => v * factor);
}

/** Gaussian values at `k` seeded random coordinates, rescaled to norm `norm`: what a junk submitter sends. */
function sparseNoise(n: number, k: number, norm: number, label: string): Float32Array {
  const rng = createRng(label);
  const noise = new Float32Array(n);
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(rng.nextInt(n));
  for (const i of chosen) noise[i] = rng.nextNormal();
  const factor = norm / updateNorm(noise);
  return scaled(noise, factor);
}

let model: Model;
let dataset: Dataset;
let theta: Float32Array;
let shapes: number[][];

function encode(delta: Float32Array): Uint8Array {
  return encodeUpdate(delta, { modelId: MODEL_ID, round: ROUND, shapes, density: DENSITY }).bytes;
}

function decode(bytes: Uint8Array): DecodedUpdate {
  return decodeUpdate(bytes, { modelId: MODEL_ID, shapes, maxBytes: MAX_BYTES, round: ROUND });
}

/** A trainer's round: H AdamW steps on its assigned shard, Δ = θ_r − θ_local, top-1 % 8-bit encoding. */
async function honestUpdate(
  trainer: Address,
): Promise<{ bytes: Uint8Array; decoded: DecodedUpdate }> {
  const local = await innerLoop({
    model,
    dataset,
    globalParams: theta,
    seed: SEED,
    node: trainer,
    steps: H,
    batchSize: TRAIN_BATCH,
  });
  const bytes = encode(pseudoGradient(theta, local.params));
  return { bytes, decoded: decode(bytes) };
}

let honestA: { bytes: Uint8Array; decoded: DecodedUpdate };
let honestB: { bytes: Uint8Array; decoded: DecodedUpdate };

before(async () => {
  await selectBackend({ backend: "wasm" });
  dataset = await loadMnist();
  model = createMnistMlp();
  shapes = model.spec.params.map((p) => [...p.shape]);
  theta = initParams(model.spec, "validate-test");
  honestA = await honestUpdate(NODE_A);
  honestB = await honestUpdate(NODE_B);
});

describe("validation batches", () => {
  it("the random shard is never the assigned one, is the same on every call and reaches every other shard", () => {
    const rng = createRng("validate-test/addresses");
    const offsets = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const address =
        `0x${Array.from({ length: 20 }, () => rng.nextInt(256).toString(16).padStart(2, "0")).join("")}` as Address;
      const assigned = assignShard(SEED, address, 8);
      const random = randomShard(SEED, address, 8);
      assert.notEqual(random, assigned);
      assert.ok(random >= 0 && random < 8);
      assert.equal(
        randomShard(SEED, address.toUpperCase().replace("0X", "0x") as Address, 8),
        random,
      );
      offsets.add((random - assigned + 8) % 8);
    }
    assert.deepEqual([...offsets].sort(), [1, 2, 3, 4, 5, 6, 7]);
  });

  it("draws from the named shards and never repeats one of the trainer's training batches", () => {
    const { assigned, random } = validationBatches({
      dataset,
      seed: SEED,
      node: NODE_A,
      batchSize: TRAIN_BATCH,
      numShards: 8,
    });
    assert.equal(assigned.shard, assignShard(SEED, NODE_A, 8));
    assert.equal(random.shard, randomShard(SEED, NODE_A, 8));
    for (const { shard, indices, batch } of [assigned, random]) {
      const { start, end } = shardRange(dataset.size.train, shard, 8);
      assert.equal(indices.length, TRAIN_BATCH);
      assert.equal(batch.size, TRAIN_BATCH);
      assert.ok(indices.every((i) => i >= start && i < end));
    }
    for (let step = 0; step < 64; step++) {
      const training = shardBatchIndices({
        seed: SEED,
        node: NODE_A,
        step,
        batchSize: TRAIN_BATCH,
        trainSize: dataset.size.train,
        shard: assigned.shard,
        numShards: 8,
      });
      assert.notDeepEqual(assigned.indices, training);
    }
    const challenged = validationBatches({
      dataset,
      seed: SEED,
      node: NODE_A,
      batchSize: TRAIN_BATCH,
      numShards: 8,
      challenge: `0x${"01".repeat(32)}`,
    });
    assert.equal(challenged.assigned.shard, assigned.shard);
    assert.notDeepEqual(challenged.assigned.indices, assigned.indices);
  });

  it("refuses a run with one shard (there is no other shard to compare with)", () => {
    assert.throws(() => randomShard(SEED, NODE_A, 1), isCode("VALIDATE_BAD_INPUT"));
  });
});

describe("scoring rule", () => {
  // a descent direction (the sign test passes) unless a test says otherwise
  const measure = (assigned: LossPair, random: LossPair, rest: Partial<ScoreMeasurements> = {}) =>
    scoreFromMeasurements({ assigned, random, descentZ: 30, ...rest });

  it("matches hand-computed scores", () => {
    // g_A = 0.25, g_R = 0.125: (0.5 + 0.125)/3 − 0.001 = 0.2073333…
    assert.equal(measure({ before: 2, after: 1.5 }, { before: 2, after: 1.75 }).scorePpm, 207_333);
    // A perfect update: weighted gain 1, minus the floor.
    assert.equal(measure({ before: 2, after: 0 }, { before: 2, after: 0 }).scorePpm, 999_000);
  });

  it("scores 0 when the update fails the sign test, however much it lowers the losses", () => {
    for (const descentZ of [4.99, 0, -20, Number.NaN]) {
      const r = measure({ before: 2, after: 1.5 }, { before: 2, after: 1.5 }, { descentZ });
      assert.deepEqual([r.scorePpm, r.verdict], [0, "not-descent"], `z = ${descentZ}`);
    }
    assert.equal(measure({ before: 2, after: 1.5 }, { before: 2, after: 1.5 }, { descentZ: 5 }).verdict, "helpful");
  });

  it("scores 0 an update over 3× the reference norm (oversized), and below it judges only the losses", () => {
    const over = measure({ before: 2, after: 1.5 }, { before: 2, after: 1.5 }, { normRatio: 3.01 });
    assert.deepEqual([over.scorePpm, over.verdict], [0, "oversized"]);
    assert.equal(measure({ before: 2, after: 1.5 }, { before: 2, after: 1.5 }, { normRatio: 3 }).verdict, "helpful");
    assert.equal(measure({ before: 2, after: 1.5 }, { before: 2, after: 1.5 }, { normRatio: Number.NaN }).verdict, "oversized");
  });

  it("without a reference norm, scores 0 a descent step that raises both losses by more than 1 % at the full AND the half step; 1 (unhelpful, not slashable) otherwise", () => {
    const worse = { assigned: 2.1, random: 2.2 };
    const harmful = measure({ before: 2, after: 2.1 }, { before: 2, after: 2.2 }, { harm: { full: worse, half: { assigned: 2.05, random: 2.1 } } });
    assert.deepEqual([harmful.scorePpm, harmful.verdict], [0, "harmful"]);
    // an honest step that overshot: harmful at full length, fine at half
    const overshot = measure({ before: 2, after: 2.1 }, { before: 2, after: 2.2 }, { harm: { full: worse, half: { assigned: 1.9, random: 2.1 } } });
    assert.deepEqual([overshot.scorePpm, overshot.verdict], [1, "unhelpful"]);
    // with a reference norm the harm test is not applied
    const referenced = measure({ before: 2, after: 2.1 }, { before: 2, after: 2.2 }, { normRatio: 1, harm: { full: worse, half: worse } });
    assert.deepEqual([referenced.scorePpm, referenced.verdict], [1, "unhelpful"]);
    assert.equal(measure({ before: 2, after: 2.01 }, { before: 2, after: 2.01 }).scorePpm, 1);
    assert.equal(measure({ before: 2, after: 2 }, { before: 2, after: 1 }).scorePpm, 1);
    assert.equal(measure({ before: 2, after: 1.5 }, { before: 2, after: 3 }).scorePpm, 1);
  });

  it("scores 1 below the 0.1 % gain floor and 0 when the update breaks the model at both lengths", () => {
    assert.equal(measure({ before: 2, after: 1.999 }, { before: 2, after: 1.999 }).scorePpm, 1);
    const broken = measure(
      { before: 2, after: Number.NaN },
      { before: 2, after: Infinity },
      { harm: { full: { assigned: Number.NaN, random: Infinity }, half: { assigned: Number.NaN, random: Number.NaN } } },
    );
    assert.equal(broken.scorePpm, 0);
    assert.equal(broken.gains.assigned, Number.NEGATIVE_INFINITY);
    assert.equal(relativeGain({ before: 0, after: 0 }), 0);
  });

  it("rewards help on the assigned shard more than help on the random one", () => {
    const assignedHelped = measure({ before: 2, after: 1.8 }, { before: 2, after: 1.9 });
    const randomHelped = measure({ before: 2, after: 1.9 }, { before: 2, after: 1.8 });
    assert.ok(assignedHelped.scorePpm > randomHelped.scorePpm);
  });
});

describe("sign test (descentZ)", () => {
  it("counts sign agreements over the shared non-zero coordinates: (agree − k/2)/√(k/4), scale-free, NaN without overlap", () => {
    const g = Float32Array.from([1, -2, 0.5, 3, 0]);
    // k = 3 (coordinates 0, 1, 3), 2 agree
    assert.equal(descentZ(Float32Array.from([1, -1, 0, -3, 7]), g), (2 - 1.5) / Math.sqrt(0.75));
    assert.equal(descentZ(Float32Array.from([10, -10, 0, -30, 7]), g), descentZ(Float32Array.from([1, -1, 0, -3, 7]), g));
    assert.ok(Number.isNaN(descentZ(Float32Array.from([0, 0, 0, 0, 1]), g)));
  });

  it("stays below the threshold for random signs (Hoeffding: P(z ≥ 5) ≤ 3.7e-6); 2,000 seeded draws of 10,000 coordinates never reach it", () => {
    const rng = createRng("descent-z-null");
    const n = 10_000;
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = rng.nextFloat() - 0.5;
    let max = -Infinity;
    for (let draw = 0; draw < 2_000; draw++) {
      const delta = new Float32Array(n);
      for (let i = 0; i < n; i++) delta[i] = (rng.nextFloat() < 0.5 ? -1 : 1) * rng.nextFloat();
      max = Math.max(max, descentZ(delta, g));
    }
    assert.ok(max < DESCENT_Z_MIN, `max z ${max}`);
  });
});

describe("scoreUpdate (MNIST MLP, real AdamW training, H = 3)", () => {
  const score = (delta: Float32Array, trainer: Address = NODE_A) =>
    scoreUpdate({ model, dataset, globalParams: theta, delta, seed: SEED, node: trainer });

  it("an honest trained update lowers both losses and scores above 0", () => {
    const result = score(toDense(honestA.decoded));
    assert.ok(result.assigned.after < result.assigned.before);
    assert.ok(result.random.after < result.random.before);
    assert.ok(result.scorePpm > 0, `score ${result.scorePpm}`);
    assert.equal(result.assigned.shard, assignShard(SEED, NODE_A, 8));
    assert.notEqual(result.random.shard, result.assigned.shard);
  });

  it("−Δ, −10·Δ and noise of Δ's norm fail the sign test (0); against a reference norm 3.5·Δ and 100·Δ are oversized (0), Δ itself is not", () => {
    const delta = toDense(honestA.decoded);
    const noise = sparseNoise(
      delta.length,
      honestA.decoded.indices.length,
      updateNorm(delta),
      "validate-test/noise",
    );
    for (const [name, bad] of [
      ["−Δ", scaled(delta, -1)],
      ["−10·Δ", scaled(delta, -10)],
      ["noise", noise],
    ] as const) {
      const result = score(bad);
      assert.deepEqual([result.scorePpm, result.verdict], [0, "not-descent"], `${name}: z = ${result.descentZ}`);
    }
    const referenceNorm = updateNorm(delta);
    const withReference = (d: Float32Array) =>
      scoreUpdate({ model, dataset, globalParams: theta, delta: d, seed: SEED, node: NODE_A, referenceNorm });
    for (const [name, bad] of [
      ["3.5·Δ", scaled(delta, 3.5)],
      ["100·Δ", scaled(delta, 100)],
    ] as const) {
      const result = withReference(bad);
      assert.deepEqual([result.scorePpm, result.verdict], [0, "oversized"], name);
    }
    const honest = withReference(delta);
    assert.equal(honest.verdict, "helpful");
    assert.equal(honest.normRatio, 1);
  });

  it("gives the same losses and score on every call", () => {
    const delta = toDense(honestB.decoded);
    assert.deepEqual(score(delta, NODE_B), score(delta, NODE_B));
  });

  it("refuses a Δ of another length", () => {
    assert.throws(() => score(new Float32Array(10)), isCode("VALIDATE_MODEL_MISMATCH"));
  });
});

describe("the model's validation batch size (one rule: validationBatchSize, scoreUpdate's default)", () => {
  it("is a protocol parameter of each registered model: 256 images for the MNIST models, 32 windows for byte-transformer-v1; an unknown model has none", () => {
    assert.equal(validationBatchSize("mnist-mlp-v1"), 256);
    assert.equal(validationBatchSize("mnist-cnn-v1"), 256);
    assert.equal(validationBatchSize("byte-transformer-v1"), 32);
    for (const id of MODEL_IDS) assert.ok(Number.isInteger(validationBatchSize(id)) && validationBatchSize(id) >= 1, id);
    assert.throws(() => validationBatchSize("mnist-mlp-v2"), isCode("MODEL_UNKNOWN"));
    assert.throws(() => validationBatchSize("toString"), isCode("MODEL_UNKNOWN"));
  });

  it("scoreUpdate scores the MNIST MLP on 256-example batches unless a measurement names another size", () => {
    const delta = toDense(honestA.decoded);
    const byDefault = scoreUpdate({ model, dataset, globalParams: theta, delta, seed: SEED, node: NODE_A });
    const { assigned, random } = validationBatches({ dataset, seed: SEED, node: NODE_A, batchSize: 256, numShards: 8 });
    assert.equal(assigned.indices.length, 256);
    assert.equal(byDefault.assigned.before, evaluateBatch(model, theta, assigned.batch).loss);
    assert.equal(byDefault.random.before, evaluateBatch(model, theta, random.batch).loss);
    assert.deepEqual(byDefault, scoreUpdate({ model, dataset, globalParams: theta, delta, seed: SEED, node: NODE_A, batchSize: 256 }));
    const other = scoreUpdate({ model, dataset, globalParams: theta, delta, seed: SEED, node: NODE_A, batchSize: 64 });
    assert.notEqual(other.assigned.before, byDefault.assigned.before);
  });

  it("scoreUpdate scores byte-transformer-v1 on 32-window batches (a tiny configuration of it)", async () => {
    const { TINY, tinyDataset } = await import("./helpers/tiny-lm.js");
    const lm = createByteTransformer(TINY);
    const windows = tinyDataset(TINY.context);
    const params = initParams(lm.spec, "validate-test/lm");
    const rng = createRng("validate-test/lm-delta");
    const delta = new Float32Array(params.length);
    for (let i = 0; i < 200; i++) delta[rng.nextInt(params.length)] = rng.nextNormal() * 1e-3;
    const result = scoreUpdate({ model: lm, dataset: windows, globalParams: params, delta, seed: SEED, node: NODE_A });
    const { assigned } = validationBatches({ dataset: windows, seed: SEED, node: NODE_A, batchSize: 32, numShards: 8 });
    assert.equal(assigned.batch.size, 32);
    assert.equal(result.assigned.before, evaluateBatch(lm, params, assigned.batch).loss);
  });
});

describe("duplicateOf", () => {
  it("credits only the first of an exact copy", () => {
    assert.deepEqual(duplicateOf([honestA.decoded, honestB.decoded, honestA.decoded]), [
      null,
      null,
      0,
    ]);
  });

  it("commit order decides: a copy committed first makes the original the duplicate", () => {
    assert.deepEqual(duplicateOf([honestB.decoded, honestA.decoded, honestA.decoded]), [
      null,
      null,
      1,
    ]);
  });

  it("catches a rescaled copy (cosine 1) and a copy of the coordinates with other values (Jaccard 1)", () => {
    const a: SparseUpdate = honestA.decoded;
    const rescaled: SparseUpdate = { indices: a.indices, values: scaled(a.values, 3) };
    const rng = createRng("validate-test/values");
    const sameCoordinates: SparseUpdate = {
      indices: a.indices,
      values: Float32Array.from(a.values, () => rng.nextNormal()),
    };
    assert.ok(Math.abs(cosineSimilarity(a, rescaled) - 1) < 1e-12);
    assert.ok(cosineSimilarity(a, sameCoordinates) < 0.5);
    assert.equal(topKJaccard(a, sameCoordinates), 1);
    assert.deepEqual(duplicateOf([a, rescaled, sameCoordinates]), [null, 0, 0]);
  });

  it("does not flag two honest updates of different trainers", () => {
    assert.ok(topKJaccard(honestA.decoded, honestB.decoded) < 0.5);
    assert.ok(cosineSimilarity(honestA.decoded, honestB.decoded) < 0.5);
    assert.deepEqual(duplicateOf([honestA.decoded, honestB.decoded]), [null, null]);
  });

  it("refuses thresholds outside (0, 1]", () => {
    assert.throws(() => duplicateOf([], { cosineThreshold: 1.5 }), isCode("VALIDATE_BAD_INPUT"));
    assert.throws(() => duplicateOf([], { jaccardThreshold: 0 }), isCode("VALIDATE_BAD_INPUT"));
  });
});

describe("fetching and validating a round over Helia (two peers on loopback)", () => {
  const folders: string[] = [];
  let trainerStore: HeliaBlobStore;
  let validatorStore: HeliaBlobStore;
  const expected = () => ({ modelId: MODEL_ID, shapes, round: ROUND });

  async function startStore(): Promise<HeliaBlobStore> {
    const folder = await mkdtemp(join(tmpdir(), "protolearn-validate-"));
    folders.push(folder);
    const store = new HeliaBlobStore({ dataDir: folder });
    await store.start();
    return store;
  }

  before(async () => {
    trainerStore = await startStore();
    validatorStore = await startStore();
    await validatorStore.dial(trainerStore.multiaddrs()[0] as string);
  });

  after(async () => {
    await Promise.all([trainerStore.stop(), validatorStore.stop()]);
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  });

  const fetch = (cid: string, hash: Hex, overrides: { maxBytes?: number; round?: number } = {}) =>
    fetchUpdate({
      store: validatorStore,
      cid,
      contentHash: hash,
      timeoutMs: 1_000,
      maxBytes: overrides.maxBytes ?? MAX_BYTES,
      expected: { ...expected(), round: overrides.round ?? ROUND },
    });

  it("fetchUpdate: gets a peer's update, checks its hash and decodes it", async () => {
    const cid = await trainerStore.put(honestA.bytes);
    const result = await fetch(cid, contentHash(honestA.bytes));
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.deepEqual(result.bytes, honestA.bytes);
    assert.deepEqual(toDense(result.update), toDense(honestA.decoded));
  });

  it("fetchUpdate: bytes whose keccak256 is not the committed content hash → hash-mismatch", async () => {
    const cid = await trainerStore.put(honestA.bytes);
    const result = await fetch(cid, contentHash(honestB.bytes));
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, "hash-mismatch");
    // Structured: the kind, the size and both hashes are fields, not text to parse.
    assert.ok(result instanceof FetchFailure);
    assert.equal(result.code, "FETCH_HASH_MISMATCH");
    assert.equal(result.size, honestA.bytes.length);
    assert.equal(result.actualHash, contentHash(honestA.bytes));
    assert.equal(result.committedHash, contentHash(honestB.bytes));
    assert.equal(result.cid, cid);
    assert.equal(result.causeCode, undefined);
  });

  it("fetchUpdate: garbage bytes, an update for another round, and a CID that is not one → malformed", async () => {
    const garbage = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251);
    const garbageResult = await fetch(await trainerStore.put(garbage), contentHash(garbage));
    assert.equal(!garbageResult.ok && garbageResult.reason, "malformed");
    assert.match(!garbageResult.ok ? garbageResult.detail : "", /CODEC_BAD_MAGIC/);
    assert.ok(garbageResult instanceof FetchFailure);
    assert.equal(garbageResult.code, "FETCH_MALFORMED");
    assert.equal(garbageResult.causeCode, "CODEC_BAD_MAGIC");
    assert.equal(garbageResult.size, garbage.length, "fetched, hashed, then refused by the codec");
    assert.equal(garbageResult.actualHash, contentHash(garbage));

    const cid = await trainerStore.put(honestB.bytes);
    const wrongRound = await fetch(cid, contentHash(honestB.bytes), { round: ROUND + 1 });
    assert.equal(!wrongRound.ok && wrongRound.reason, "malformed");
    assert.match(!wrongRound.ok ? wrongRound.detail : "", /CODEC_ROUND_MISMATCH/);

    const notACid = await fetch("not-a-cid", contentHash(honestB.bytes));
    assert.equal(!notACid.ok && notACid.reason, "malformed");
    assert.equal(!notACid.ok && notACid.causeCode, "STORAGE_BAD_CID");
    assert.equal(!notACid.ok && notACid.size, null);
  });

  it("fetchUpdate: a blob over the size cap → oversize", async () => {
    const cid = await trainerStore.put(honestA.bytes);
    const result = await fetch(cid, contentHash(honestA.bytes), {
      maxBytes: honestA.bytes.length - 1,
    });
    assert.equal(!result.ok && result.reason, "oversize");
  });

  it("fetchUpdate: a CID nobody serves → unreachable after the timeout", async () => {
    const never = Uint8Array.from(honestA.bytes);
    never[never.length - 1] = (never[never.length - 1] as number) ^ 0xff;
    const result = await fetch(await computeCid(never, 0), contentHash(never));
    assert.equal(!result.ok && result.reason, "unreachable");
    assert.match(!result.ok ? result.detail : "", /STORAGE_TIMEOUT/);
    assert.ok(result instanceof FetchFailure);
    assert.equal(result.code, "FETCH_UNREACHABLE");
    assert.equal(result.causeCode, "STORAGE_TIMEOUT");
    assert.equal(result.size, null);
    assert.equal(result.actualHash, null);
  });

  it("verifyReveal reports the size and hash fetchUpdate saw, with and without the decode rules", async () => {
    const cid = await trainerStore.put(honestA.bytes);
    const verify = (hash: Hex, decode: boolean) =>
      verifyReveal({
        store: validatorStore,
        cid,
        contentHash: hash,
        timeoutMs: 1_000,
        maxBytes: MAX_BYTES,
        ...(decode ? { expected: expected() } : {}),
      });
    for (const decode of [true, false]) {
      const ok = await verify(contentHash(honestA.bytes), decode);
      assert.deepEqual(
        [ok.status, ok.bytes, ok.actualHash, ok.checked],
        ["ok", honestA.bytes.length, contentHash(honestA.bytes), decode ? "hash+decode" : "hash"],
      );
      const mismatch = await verify(contentHash(honestB.bytes), decode);
      assert.deepEqual(
        [mismatch.status, mismatch.bytes, mismatch.actualHash],
        ["hash-mismatch", honestA.bytes.length, contentHash(honestA.bytes)],
      );
    }
    const garbage = Uint8Array.from({ length: 1500 }, (_, i) => (i * 13) % 256);
    const malformed = await verifyReveal({
      store: validatorStore,
      cid: await trainerStore.put(garbage),
      contentHash: contentHash(garbage),
      timeoutMs: 1_000,
      maxBytes: MAX_BYTES,
      expected: expected(),
    });
    assert.deepEqual(
      [malformed.status, malformed.bytes, malformed.actualHash],
      ["malformed", garbage.length, contentHash(garbage)],
    );
  });

  it("fetchUpdate: throws for the validator's own faults (store not started, bad content hash)", async () => {
    const stopped = new HeliaBlobStore({
      dataDir: join(tmpdir(), "protolearn-validate-never-started"),
    });
    await assert.rejects(
      fetchUpdate({
        store: stopped,
        cid: await computeCid(honestA.bytes, 0),
        contentHash: contentHash(honestA.bytes),
        timeoutMs: 1_000,
        maxBytes: MAX_BYTES,
        expected: expected(),
      }),
      isCode("STORAGE_NOT_STARTED"),
    );
    await assert.rejects(fetch("x", "0x1234"), isCode("VALIDATE_BAD_INPUT"));
  });

  it("validateRound: accepts honest updates and rejects each kind of bad one with its reason, deterministically", async () => {
    const deltaA = toDense(honestA.decoded);
    const garbage = Uint8Array.from({ length: 2000 }, (_, i) => (i * 31) % 256);
    // Dishonest trainers that did train, then flipped or blew up their own Δ.
    const flipped = encode(scaled(toDense((await honestUpdate(node("d4"))).decoded), -1));
    const huge = encode(scaled(toDense((await honestUpdate(node("e5"))).decoded), 100));
    const noise = encode(
      sparseNoise(
        deltaA.length,
        honestA.decoded.indices.length,
        updateNorm(deltaA),
        "validate-test/round-noise",
      ),
    );
    const never = encode(scaled(deltaA, 0.5));
    const cases: {
      name: string;
      who: Address;
      commitIndex: number;
      bytes: Uint8Array;
      hash?: Hex;
      publish?: boolean;
    }[] = [
      // The copy is revealed first but committed after the original: commit order decides.
      { name: "copy", who: node("c3"), commitIndex: 5, bytes: honestA.bytes },
      { name: "honestA", who: NODE_A, commitIndex: 0, bytes: honestA.bytes },
      { name: "flipped", who: node("d4"), commitIndex: 2, bytes: flipped },
      { name: "honestB", who: NODE_B, commitIndex: 1, bytes: honestB.bytes },
      { name: "huge", who: node("e5"), commitIndex: 3, bytes: huge },
      { name: "noise", who: node("f6"), commitIndex: 4, bytes: noise },
      { name: "garbage", who: node("07"), commitIndex: 6, bytes: garbage },
      {
        name: "mismatch",
        who: node("18"),
        commitIndex: 7,
        bytes: honestB.bytes,
        hash: contentHash(flipped),
      },
      { name: "unreachable", who: node("29"), commitIndex: 8, bytes: never, publish: false },
    ];
    const reveals: RevealedUpdate[] = [];
    for (const [index, c] of cases.entries()) {
      const cid =
        c.publish === false ? await computeCid(c.bytes, 0) : await trainerStore.put(c.bytes);
      reveals.push({
        index,
        node: c.who,
        cid,
        contentHash: c.hash ?? contentHash(c.bytes),
        samples: H * TRAIN_BATCH,
        commitIndex: c.commitIndex,
      });
    }
    const run = () =>
      validateRound({
        store: validatorStore,
        model,
        dataset,
        globalParams: theta,
        seed: SEED,
        reveals: [...reveals].reverse(),
        caps: {
          modelId: MODEL_ID,
          maxBytes: MAX_BYTES,
          round: ROUND,
          params: { bits: 8, maxDensity: DENSITY },
        },
        timeoutMs: 1_500,
        acceptScorePpm: 2,
      });
    const result = await run();
    const byName = Object.fromEntries(cases.map((c, i) => [c.name, result.verdicts[i]!]));
    assert.deepEqual(
      Object.fromEntries(Object.entries(byName).map(([name, v]) => [name, v.reason])),
      {
        copy: "duplicate",
        honestA: "ok",
        flipped: "not-descent",
        honestB: "ok",
        huge: "norm-cap",
        noise: "not-descent",
        garbage: "malformed",
        mismatch: "hash-mismatch",
        unreachable: "unreachable",
      },
    );
    assert.equal(byName.copy!.duplicateOf, 1);
    assert.ok(byName.honestA!.scorePpm > 0 && byName.honestB!.scorePpm > 0);
    // Every bad update scores 0 (slashable when all its scorers agree): −Δ and noise fail the sign test.
    for (const name of ["copy", "huge", "garbage", "mismatch", "unreachable", "flipped", "noise"]) {
      assert.equal(byName[name]!.scorePpm, 0, name);
      assert.equal(byName[name]!.accepted, false, name);
    }
    assert.deepEqual(
      result.scores,
      result.verdicts.map((v) => v.scorePpm),
    );
    assert.deepEqual(
      result.verdicts.map((v) => v.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.deepEqual(
      result.accepted.map((a) => a.node),
      [NODE_A, NODE_B],
    );
    assert.deepEqual(result.accepted[0]!.bytes, honestA.bytes);
    assert.deepEqual(result.accepted[0]!.delta, deltaA);

    // The accepted set is what aggregation takes.
    const { delta } = aggregateUpdates(
      result.accepted.map((a) => ({ address: a.node, update: a.delta })),
    );
    assert.equal(delta.length, deltaA.length);

    // The validator daemon and audit --rescore score through validateRound, which has no batch
    // size of its own: it scores at the model's (256 for the MNIST MLP), like scoreUpdate.
    assert.deepEqual(
      byName.honestA!.score,
      scoreUpdate({ model, dataset, globalParams: theta, delta: deltaA, seed: SEED, node: NODE_A, batchSize: validationBatchSize(model.spec.id) }),
    );

    // A second validation of the same round gives the same scores.
    const again = await run();
    assert.deepEqual(again.scores, result.scores);
    assert.deepEqual(
      again.verdicts.map((v) => v.reason),
      result.verdicts.map((v) => v.reason),
    );
    // A committee member judges only its assigned updates, each on its own (rounds v2, lagged
    // attestation): the others are not fetched and get no verdict; with no view of the round
    // there is no norm cap against its median and no in-round duplicate, but the reference norm
    // (the last accepted set's median, here the honest update's norm) gives the ×100 update 0 and
    // public-work checks still apply.
    const assigned = await validateRound({
      store: validatorStore,
      model,
      dataset,
      globalParams: theta,
      seed: SEED,
      reveals,
      only: new Set([0, 1, 4]),
      caps: { modelId: MODEL_ID, maxBytes: MAX_BYTES, round: ROUND, params: { bits: 8, maxDensity: DENSITY } },
      timeoutMs: 1_500,
      acceptScorePpm: 2,
      referenceNorm: updateNorm(deltaA),
    });
    assert.deepEqual(assigned.verdicts.map((v) => [v.index, v.reason]), [
      [0, "ok"],
      [1, "ok"],
      [4, "norm-cap"],
    ]);
    assert.equal(assigned.normLimit, Number.POSITIVE_INFINITY);
    assert.equal(assigned.verdicts[1]!.scorePpm, byName.honestA!.scorePpm, "the same score as when judging the whole round");
    assert.ok(assigned.verdicts[0]!.scorePpm > 0, "the in-round copy is scored (on its own node's shard) like honest work");
    assert.equal(assigned.verdicts[2]!.scorePpm, 0, "the ×100 update is oversized against the reference norm");
    // Judging every update per update (what audit --rescore does) gives each the same verdict.
    const each = await validateRound({
      store: validatorStore,
      model,
      dataset,
      globalParams: theta,
      seed: SEED,
      reveals,
      perUpdate: true,
      caps: { modelId: MODEL_ID, maxBytes: MAX_BYTES, round: ROUND, params: { bits: 8, maxDensity: DENSITY } },
      timeoutMs: 1_500,
      acceptScorePpm: 2,
      referenceNorm: updateNorm(deltaA),
    });
    assert.equal(each.verdicts.length, 9);
    for (const v of assigned.verdicts) {
      assert.deepEqual([each.verdicts[v.index]!.scorePpm, each.verdicts[v.index]!.reason], [v.scorePpm, v.reason]);
    }
  });

  it("validateRound (P6): a trainer that resubmits the previous round's aggregate, or an update accepted in an earlier round, is a duplicate; an honest update is not", async () => {
    // The previous round's public aggregate M_r − M_{r−1}: here the mean of two honest updates.
    const previous = new Float32Array(theta.length);
    const a = toDense(honestA.decoded);
    const b = toDense(honestB.decoded);
    for (let i = 0; i < previous.length; i++) previous[i] = ((a[i] as number) + (b[i] as number)) / 2;
    const fresh = await honestUpdate(node("3c"));
    const resubmitted = encode(previous); // top-1 % of the aggregate, re-encoded as the trainer's own
    const recycled = honestB.bytes; // honestB's update of an earlier round, sent again
    const folder = await mkdtemp(join(tmpdir(), "protolearn-update-index-"));
    folders.push(folder);
    const index = await UpdateIndex.open(folder, 4);
    await index.record(ROUND - 1 + 100, [{ node: NODE_B, update: honestB.decoded }]); // a later round: not public before ROUND
    await index.record(ROUND - 1, [{ node: NODE_B, update: honestB.decoded }]);
    const reopened = await UpdateIndex.open(folder, 4);
    assert.equal(reopened.size, 2, "the index survives a restart");
    const earlier = reopened.before(ROUND);
    assert.equal(earlier.length, 1, "only rounds before the judged one are public work");
    // the reference norm of scoring: the latest earlier accepted set's median norm
    assert.equal(reopened.referenceNorm(ROUND), updateNorm(toDense(honestB.decoded)));
    assert.equal(reopened.referenceNorm(ROUND - 1), undefined, "no accepted set before it");
    const cases = [
      { who: node("3c"), bytes: fresh.bytes },
      { who: node("4d"), bytes: resubmitted },
      { who: node("5e"), bytes: recycled },
    ];
    const reveals: RevealedUpdate[] = [];
    for (const [i, c] of cases.entries()) {
      reveals.push({ index: i, node: c.who, cid: await trainerStore.put(c.bytes), contentHash: contentHash(c.bytes), samples: H * TRAIN_BATCH, commitIndex: i });
    }
    const result = await validateRound({
      store: validatorStore,
      model,
      dataset,
      globalParams: theta,
      seed: SEED,
      challenge: `0x${"5c".repeat(32)}`,
      reveals,
      caps: { modelId: MODEL_ID, maxBytes: MAX_BYTES, round: ROUND, params: { bits: 8, maxDensity: DENSITY } },
      timeoutMs: 5_000,
      acceptScorePpm: 2,
      previousAggregate: previous,
      earlier,
    });
    assert.deepEqual(
      result.verdicts.map((v) => [v.reason, v.duplicateOfPublic ?? null]),
      [
        ["ok", null],
        ["duplicate", "the previous round's aggregate"],
        ["duplicate", `round ${ROUND - 1}'s accepted update by ${NODE_B}`],
      ],
    );
    assert.equal(result.verdicts[1]?.scorePpm, 0);
    assert.deepEqual(result.accepted.map((x) => x.node), [node("3c")]);
    // The same test without the public work scores the resubmission like weak honest work.
    const sparsePrevious = topKOfDense(previous, decode(resubmitted).indices.length);
    assert.ok(topKJaccard(sparsePrevious, decode(resubmitted)) > 0.9);
    assert.equal(duplicateOfPublic(fresh.decoded, [{ label: "prev", update: topKOfDense(previous, fresh.decoded.indices.length) }]), null);
  });

  it("validateRound: refuses reveal lists that cannot come from one round", async () => {
    const base: RevealedUpdate = {
      index: 0,
      node: NODE_A,
      cid: "x",
      contentHash: contentHash(honestA.bytes),
      samples: 1,
      commitIndex: 0,
    };
    const call = (reveals: RevealedUpdate[], acceptScorePpm = 1) =>
      validateRound({
        store: validatorStore,
        model,
        dataset,
        globalParams: theta,
        seed: SEED,
        reveals,
        caps: { modelId: MODEL_ID, maxBytes: MAX_BYTES },
        timeoutMs: 100,
        acceptScorePpm,
      });
    await assert.rejects(call([{ ...base, index: 1 }]), isCode("VALIDATE_BAD_INPUT"));
    await assert.rejects(
      call([base, { ...base, index: 1, commitIndex: 1 }]),
      isCode("VALIDATE_BAD_INPUT"),
    );
    await assert.rejects(call([base], 0), isCode("VALIDATE_BAD_INPUT"));
  });
});
