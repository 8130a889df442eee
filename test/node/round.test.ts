import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { keccak256, type Address, type Hex } from "viem";

import { aggregateUpdates, updateNorm } from "../../node/src/aggregate/index.js";
import {
  decodeUpdate,
  encodeUpdate,
  modelIdFromName,
  toDense,
} from "../../node/src/codec/index.js";
import type { Dataset } from "../../node/src/data/dataset.js";
import { loadMnist } from "../../node/src/data/mnist.js";
import { modelHash } from "../../node/src/model/hash.js";
import { createMlp } from "../../node/src/model/mlp.js";
import type { Model } from "../../node/src/model/model.js";
import { initParams } from "../../node/src/model/params.js";
import { createRng } from "../../node/src/random/index.js";
import {
  decodeRoundUpdate,
  maxUpdateBytes,
  nextModel,
  parseRoundRunParams,
  ROUND_PROTOCOL_CONSTANTS,
  roundParamsFromChain,
  roundParamsToChain,
  trainUpdate,
  type RoundRunParams,
  type RoundUpdate,
} from "../../node/src/round/index.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { evaluate } from "../../node/src/train/evaluate.js";
import { outerStep, pseudoGradient } from "../../node/src/train/outer-step.js";
import { innerLoop } from "../../node/src/train/inner-loop.js";

const MODEL_NAME = "round-test-mlp-784-16-10";
const SEED: Hex = `0x${"3c".repeat(32)}`;
const NODES: Address[] = [
  "0xc000000000000000000000000000000000000003",
  "0x0a00000000000000000000000000000000000001",
  "0xB000000000000000000000000000000000000002",
  "0x0d00000000000000000000000000000000000004",
  "0x9e00000000000000000000000000000000000005",
];

/** The on-chain RunParams fields as ignition/modules/defaults.ts deploys them (ppm). */
const CHAIN_PARAMS = {
  modelId: modelIdFromName(MODEL_NAME),
  innerSteps: 4,
  batchSize: 16,
  innerLrPpm: 5_000,
  outerLrPpm: 700_000,
  outerMomentumPpm: 900_000,
  densityPpm: 50_000,
  quantBits: 8,
  aggregation: 0,
  trimPpm: 0,
  clipMultiplePpm: 2_000_000,
};

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

function isRoundError(code: string) {
  return (error: unknown): boolean =>
    error instanceof Error && (error as { code?: unknown }).code === code;
}

describe("round parameters", () => {
  it("converts the on-chain ppm struct to natural units, bit-exactly", () => {
    const params = roundParamsFromChain(CHAIN_PARAMS);
    assert.equal(params.outerLearningRate, 0.7);
    assert.equal(params.outerMomentum, 0.9);
    assert.equal(params.innerLearningRate, 0.005);
    assert.equal(params.density, 0.05);
    assert.equal(params.clipMultiple, 2);
    assert.equal(params.trimFraction, 0);
    assert.equal(params.aggregation, "trimmed-mean");
    assert.equal(params.bits, 8);
    assert.equal(params.modelId, modelIdFromName(MODEL_NAME));
    assert.equal(params.numShards, ROUND_PROTOCOL_CONSTANTS.numShards);
    assert.equal(params.chunkSize, ROUND_PROTOCOL_CONSTANTS.chunkSize);
    assert.deepEqual(roundParamsToChain(params), CHAIN_PARAMS);
  });

  it("accepts bigint fields (ethers) and ignores the protocol-only fields", () => {
    const params = roundParamsFromChain({
      ...CHAIN_PARAMS,
      innerSteps: 4n,
      outerLrPpm: 700_000n,
      aggregation: 1n,
      minTrainerStake: 10n ** 20n,
      commitDuration: 600,
    });
    assert.equal(params.innerSteps, 4);
    assert.equal(params.outerLearningRate, 0.7);
    assert.equal(params.aggregation, "median");
  });

  it("refuses out-of-range on-chain values, naming each field", () => {
    for (const [field, value] of [
      ["quantBits", 3],
      ["aggregation", 2],
      ["trimPpm", 500_000],
      ["densityPpm", 0],
      ["densityPpm", 1_000_001],
      ["outerMomentumPpm", 1_000_000],
      ["innerSteps", 0],
      ["innerSteps", 2n ** 32n],
      ["modelId", "0x1234"],
    ] as const) {
      assert.throws(
        () => roundParamsFromChain({ ...CHAIN_PARAMS, [field]: value }),
        (error: unknown) =>
          isRoundError("ROUND_BAD_PARAMS")(error) && (error as Error).message.includes(field),
        `${field} = ${String(value)}`,
      );
    }
    assert.throws(
      () => parseRoundRunParams({ ...roundParamsFromChain(CHAIN_PARAMS), bits: 3 }),
      isRoundError("ROUND_BAD_PARAMS"),
    );
  });
});

describe("round engine: trainUpdate → nextModel", () => {
  let dataset: Dataset;
  let model: Model;
  let params: RoundRunParams;
  let genesis: Float32Array;
  let updates: RoundUpdate[];

  before(async () => {
    await selectBackend({ backend: "wasm" });
    dataset = await loadMnist();
    model = createMlp({ id: MODEL_NAME, layers: [784, 16, 10] });
    params = roundParamsFromChain(CHAIN_PARAMS);
    genesis = initParams(model.spec, "round-test");
    updates = [];
    for (const node of NODES) {
      const update = await trainUpdate({
        model,
        dataset,
        globalParams: genesis,
        seed: SEED,
        node,
        round: 1,
        params,
        residual: null,
      });
      updates.push({ node, bytes: update.bytes, samples: update.samples });
    }
  });

  it("trainUpdate is the inner loop, Δ = θ_r − θ_local and the codec with error feedback", async () => {
    const node = NODES[0] as Address;
    const residual = new Float32Array(genesis.length).fill(1e-4);
    const residualBefore = new Float32Array(residual);
    const update = await trainUpdate({
      model,
      dataset,
      globalParams: genesis,
      seed: SEED,
      node,
      round: 1,
      params,
      residual,
    });
    const local = await innerLoop({
      model,
      dataset,
      globalParams: genesis,
      seed: SEED,
      node,
      steps: params.innerSteps,
      batchSize: params.batchSize,
      optimizer: { learningRate: params.innerLearningRate, weightDecay: params.weightDecay },
    });
    const expected = encodeUpdate(pseudoGradient(genesis, local.params), {
      modelId: params.modelId,
      round: 1,
      shapes: model.spec.params.map((p) => p.shape),
      density: params.density,
      bits: params.bits,
      chunkSize: params.chunkSize,
      residual,
    });
    assert.deepEqual(update.bytes, expected.bytes);
    assert.ok(sameBits(update.residual, expected.residual));
    assert.equal(update.contentHash, keccak256(update.bytes));
    assert.equal(update.samples, params.innerSteps * params.batchSize);
    assert.equal(update.stats.shard, local.shard);
    const mean = local.losses.reduce((a, b) => a + b, 0) / local.losses.length;
    assert.ok(Math.abs(update.trainLoss - mean) < 1e-6);
    assert.ok(sameBits(residual, residualBefore), "the caller's residual is not modified");
    assert.ok(update.bytes.length <= maxUpdateBytes(model.spec, params));
    assert.equal(
      decodeRoundUpdate(update.bytes, { model, params, round: 1 }).indices.length,
      update.stats.k,
    );
  });

  it("nextModel = decode → clip + trimmed mean in address order → Nesterov step → model hash", () => {
    const next = nextModel({
      model,
      globalParams: genesis,
      momentum: undefined,
      updates,
      params,
      round: 1,
    });
    const expected = aggregateUpdates(
      updates.map(({ node, bytes }) => ({
        address: node,
        update: toDense(
          decodeUpdate(bytes, {
            modelId: params.modelId,
            shapes: model.spec.params.map((p) => p.shape),
            maxBytes: 1 << 20,
          }),
        ),
      })),
      { clipMultiple: 2, method: "trimmed-mean", trimFraction: 0 },
    );
    assert.ok(sameBits(next.aggregatedDelta, expected.delta));
    const stepped = outerStep({ params: genesis, delta: expected.delta, momentum: undefined });
    assert.ok(sameBits(next.params, stepped.params));
    assert.ok(sameBits(next.momentum, stepped.momentum));
    assert.equal(next.modelHash, modelHash(model.spec, next.params));
    assert.deepEqual(
      next.aggregation.nodes.map((n) => n.address),
      NODES.map((a) => a.toLowerCase()).sort(),
    );
    // The round helped: the held-out loss went down.
    const before = evaluate(model, genesis, dataset, { limit: 500 }).loss;
    const after = evaluate(model, next.params, dataset, { limit: 500 }).loss;
    assert.ok(after < before, `eval loss ${before} → ${after}`);
  });

  it("is bit-identical for the same updates in any order, and carries the momentum across rounds", () => {
    const rng = createRng("round-test-shuffle");
    const first = nextModel({
      model,
      globalParams: genesis,
      momentum: undefined,
      updates,
      params,
      round: 1,
    });
    for (let trial = 0; trial < 5; trial++) {
      const shuffled = rng.shuffle([...updates]).map((u, i) => ({
        ...u,
        node: (i % 2 === 0
          ? u.node.toLowerCase()
          : u.node.toUpperCase().replace("0X", "0x")) as Address,
      }));
      const again = nextModel({
        model,
        globalParams: genesis,
        momentum: undefined,
        updates: shuffled,
        params,
        round: 1,
      });
      assert.equal(again.modelHash, first.modelHash);
      assert.equal(again.momentumHash, first.momentumHash);
      assert.ok(sameBits(again.params, first.params));
      assert.ok(sameBits(again.momentum, first.momentum));
    }
    // Round 2 with momentum from round 1 differs from a round 2 that forgot it.
    const withMomentum = nextModel({
      model,
      globalParams: first.params,
      momentum: first.momentum,
      updates,
      params,
    });
    const without = nextModel({
      model,
      globalParams: first.params,
      momentum: undefined,
      updates,
      params,
    });
    assert.notEqual(withMomentum.modelHash, without.modelHash);
  });

  it("clips a ×100 update and a sign-flipped ×100 update to the median-norm bound", () => {
    const honest = updates.slice(0, 4);
    const victim = updates[4] as RoundUpdate;
    const decoded = decodeRoundUpdate(victim.bytes, { model, params, round: 1 });
    const dense = toDense(decoded);
    for (const factor of [100, -100, -1]) {
      // An attacker may send any well-formed update: re-encode its honest Δ scaled by `factor`.
      const forged = encodeUpdate(
        dense.map((v) => v * factor),
        {
          modelId: params.modelId,
          round: 1,
          shapes: model.spec.params.map((p) => p.shape),
          density: params.density,
          bits: params.bits,
          chunkSize: params.chunkSize,
        },
      ).bytes;
      for (const aggregation of ["trimmed-mean", "median"] as const) {
        const run = {
          ...params,
          aggregation,
          trimFraction: aggregation === "trimmed-mean" ? 0.2 : 0,
        };
        const attacked = nextModel({
          model,
          globalParams: genesis,
          momentum: undefined,
          updates: [...honest, { node: victim.node, bytes: forged }],
          params: run,
          round: 1,
        });
        const attacker = attacked.aggregation.nodes.find(
          (n) => n.address === victim.node.toLowerCase(),
        );
        assert.ok(attacker !== undefined);
        if (Math.abs(factor) === 100) {
          assert.ok(
            attacker.clipFactor < 0.05,
            `factor ${factor}: clip factor ${attacker.clipFactor}`,
          );
          assert.ok(
            attacker.norm * attacker.clipFactor <= attacked.aggregation.clipThreshold * (1 + 1e-12),
          );
        }
        const reference = nextModel({
          model,
          globalParams: genesis,
          momentum: undefined,
          updates: honest,
          params: run,
          round: 1,
        });
        const shift = updateNorm(
          attacked.aggregatedDelta.map((v, i) => v - (reference.aggregatedDelta[i] as number)),
        );
        assert.ok(
          shift < attacked.aggregation.clipThreshold,
          `factor ${factor} ${aggregation}: shift ${shift} vs τ ${attacked.aggregation.clipThreshold}`,
        );
      }
    }
  });

  it("refuses updates of another round, model or size, naming the node", () => {
    const node = updates[0] as RoundUpdate;
    assert.throws(
      () =>
        nextModel({
          model,
          globalParams: genesis,
          momentum: undefined,
          updates: [node],
          params,
          round: 2,
        }),
      (error: unknown) =>
        isRoundError("ROUND_INVALID_UPDATE")(error) && (error as Error).message.includes(node.node),
    );
    const denser = { ...params, density: params.density / 2 };
    assert.throws(
      () =>
        nextModel({
          model,
          globalParams: genesis,
          momentum: undefined,
          updates: [node],
          params: denser,
          round: 1,
        }),
      isRoundError("ROUND_INVALID_UPDATE"),
    );
    const otherModel = createMlp({ id: "another-model", layers: [784, 16, 10] });
    assert.throws(
      () =>
        nextModel({
          model: otherModel,
          globalParams: genesis,
          momentum: undefined,
          updates: [node],
          params,
          round: 1,
        }),
      isRoundError("ROUND_MODEL_MISMATCH"),
    );
    assert.throws(
      () =>
        nextModel({
          model,
          globalParams: genesis,
          momentum: new Float32Array(3),
          updates: [node],
          params,
          round: 1,
        }),
      isRoundError("ROUND_BAD_MOMENTUM"),
    );
    assert.throws(
      () =>
        nextModel({
          model,
          globalParams: genesis,
          momentum: undefined,
          updates: [],
          params,
          round: 1,
        }),
      isRoundError("AGGREGATE_NO_UPDATES"),
    );
  });

  it("refuses a residual of another model before training", async () => {
    await assert.rejects(
      trainUpdate({
        model,
        dataset,
        globalParams: genesis,
        seed: SEED,
        node: NODES[0] as Address,
        round: 1,
        params,
        residual: new Float32Array(7),
      }),
      isRoundError("ROUND_BAD_RESIDUAL"),
    );
  });

  it("maxUpdateBytes bounds every encoding the run allows", () => {
    const rng = createRng("round-test-max-bytes");
    const n = genesis.length;
    for (const bits of [2, 4, 8] as const) {
      for (const density of [1e-4, 0.01, 0.3, 1]) {
        const run = { ...params, bits, density };
        const values = Float32Array.from({ length: n }, () => rng.nextNormal());
        const { bytes } = encodeUpdate(values, {
          modelId: run.modelId,
          round: 1,
          shapes: model.spec.params.map((p) => p.shape),
          density,
          bits,
          chunkSize: run.chunkSize,
        });
        assert.ok(
          bytes.length <= maxUpdateBytes(model.spec, run),
          `${bits} bits, density ${density}`,
        );
        assert.equal(
          decodeRoundUpdate(bytes, { model, params: run }).indices.length,
          Math.round(density * n),
        );
      }
    }
  });
});
