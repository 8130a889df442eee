import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { modelIdFromName } from "../../node/src/codec/index.js";
import type { Dataset } from "../../node/src/data/dataset.js";
import { loadMnist } from "../../node/src/data/mnist.js";
import { modelHash } from "../../node/src/model/hash.js";
import { createMnistMlp } from "../../node/src/model/mlp.js";
import { parseRoundRunParams, ROUND_PROTOCOL_CONSTANTS } from "../../node/src/round/index.js";
import { ddpBytesPerNodePerRound } from "../../node/src/round/sim/comm-bytes.js";
import {
  LM_SIM_DEFAULTS,
  parseSimFlags,
  simDdpLearningRate,
  simRunParams,
} from "../../node/src/round/sim/sim-config.js";
import { loadSimWorkload } from "../../node/src/round/sim/sim-workload.js";
import { simNodeAddress, simRoundSeed } from "../../node/src/round/sim/sim-seeds.js";
import { simulate, type SimulationProgress } from "../../node/src/round/sim/simulate.js";
import { selectBackend } from "../../node/src/train/backend.js";

describe("simulation: 2 nodes, 2 rounds through real Helia peers", () => {
  let dataset: Dataset;

  before(async () => {
    await selectBackend({ backend: "wasm" });
    dataset = await loadMnist();
  });

  it("trains: accuracy rises for the protocol and the dense baseline, bytes are the updates' sizes", async () => {
    const model = createMnistMlp();
    const params = parseRoundRunParams({
      modelId: modelIdFromName(model.spec.id),
      innerSteps: 6,
      batchSize: 16,
      innerLearningRate: 0.003,
      outerLearningRate: 0.7,
      outerMomentum: 0.9,
      density: 0.1,
      bits: 8,
      aggregation: "trimmed-mean",
      trimFraction: 0,
      clipMultiple: 2,
      ...ROUND_PROTOCOL_CONSTANTS,
    });
    const progress: SimulationProgress[] = [];
    const result = await simulate({
      model,
      dataset,
      nodes: 2,
      rounds: 2,
      params,
      seed: "sim-test",
      evalLimit: 500,
      onProgress: (p) => progress.push(p),
    });

    assert.deepEqual(result.nodes, [simNodeAddress("sim-test", 0), simNodeAddress("sim-test", 1)]);
    assert.equal(result.perRound.length, 2);
    const [first, second] = result.perRound as [
      (typeof result.perRound)[0],
      (typeof result.perRound)[0],
    ];
    // Learning happened in both runs (a 10-class problem starts near 10 %).
    assert.ok(
      second.protocol.evalAccuracy > result.initial.evalAccuracy + 0.15,
      `protocol accuracy ${result.initial.evalAccuracy} → ${second.protocol.evalAccuracy}`,
    );
    assert.ok(second.protocol.evalAccuracy > first.protocol.evalAccuracy, "and keeps rising");
    assert.ok(second.protocol.evalLoss < result.initial.evalLoss);
    assert.ok(second.baseline !== undefined);
    assert.ok(second.baseline.evalAccuracy > result.initial.evalAccuracy + 0.15);

    // Same samples for both runs: nodes × H × batch per round.
    assert.equal(first.samples, 2 * 6 * 16);
    assert.equal(second.samples, 2 * 2 * 6 * 16);

    // Every update went through bitswap: the validator fetched exactly what the nodes sent.
    for (const r of result.perRound) {
      assert.equal(r.protocol.bytesFetched, 2 * r.protocol.bytesPerNode);
      assert.ok(
        r.protocol.bytesPerNode > 0 && r.protocol.bytesPerNode < 0.1 * 4 * result.parameterCount,
      );
    }
    assert.equal(second.protocol.modelHash, modelHash(model.spec, result.finalParams));
    assert.notEqual(first.protocol.modelHash, second.protocol.modelHash);

    // Byte accounting: DDP sends one dense float32 gradient per node per step.
    assert.equal(
      result.bytes.ddpPerNodePerRound,
      ddpBytesPerNodePerRound(result.parameterCount, 6),
    );
    assert.equal(result.bytes.ddpPerNodePerRound, 6 * 203_530 * 4);
    assert.equal(
      result.bytes.protocolTotal,
      result.perRound.reduce((sum, r) => sum + 2 * r.protocol.bytesPerNode, 0),
    );
    assert.ok(
      Math.abs(result.bytes.ratio - result.bytes.ddpTotal / result.bytes.protocolTotal) < 1e-9,
    );

    // Progress counts every inner step of every node and of the baseline, and ends at the total.
    const last = progress.at(-1);
    assert.ok(last !== undefined);
    assert.equal(last.total, 2 * (2 * 6 + 6));
    assert.equal(last.completed, last.total);
  });

  it("runs the byte-level language model: bits per byte for both runs, the LM's defaults from its flags", async () => {
    const flags = parseSimFlags({
      model: "byte-transformer-v1",
      nodes: "2",
      rounds: "1",
      H: "2",
      batch: "1",
    });
    assert.equal(flags.model, "byte-transformer-v1");
    assert.equal(flags.density, LM_SIM_DEFAULTS.density);
    assert.equal(flags.lr, LM_SIM_DEFAULTS.innerLearningRate);
    assert.equal(simDdpLearningRate(flags), LM_SIM_DEFAULTS.ddpLearningRate);
    assert.equal(parseSimFlags({}).model, "mnist-mlp-v1");
    // MNIST's baseline trains with the run's own learning rate unless --ddp-lr says otherwise.
    assert.equal(simDdpLearningRate(parseSimFlags({ lr: "0.003" })), 0.003);
    assert.equal(simDdpLearningRate(parseSimFlags({ lr: "0.003", "ddp-lr": "0.001" })), 0.001);
    assert.throws(() => parseSimFlags({ model: "gpt-5" }), /--model/);
    const work = await loadSimWorkload("byte-transformer-v1", { evalWindows: 4 });
    assert.equal(work.metric, "bits-per-byte");
    const result = await simulate({
      model: work.model,
      dataset: work.dataset,
      evaluator: work.evaluate,
      nodes: flags.nodes,
      rounds: flags.rounds,
      params: simRunParams(flags),
      baselineLearningRate: simDdpLearningRate(flags),
      seed: "sim-lm-test",
    });
    const [round] = result.perRound;
    assert.ok(round?.baseline !== undefined);
    const initial = result.initial.bitsPerByte;
    assert.ok(
      initial !== undefined && initial > 7.5 && initial < 8.5,
      `genesis ${initial} bits per byte`,
    );
    assert.ok(Number.isNaN(round.protocol.evalAccuracy), "a language model has no accuracy");
    for (const score of [round.protocol.bitsPerByte, round.baseline.bitsPerByte]) {
      assert.ok(score !== undefined && score < initial, `${score} < ${initial}`);
    }
    // Equal tokens: 2 nodes × 2 steps × 1 window.
    assert.equal(round.samples, 4);
    assert.equal(result.bytes.ddpPerNodePerRound, 2 * 875_520 * 4);
    assert.ok(round.protocol.bytesPerNode < 0.02 * 875_520 * 4);
  });

  it("derives round seeds and node addresses from the simulation seed alone", () => {
    assert.equal(simRoundSeed("a", 1), simRoundSeed("a", 1));
    assert.notEqual(simRoundSeed("a", 1), simRoundSeed("a", 2));
    assert.notEqual(simRoundSeed("a", 1), simRoundSeed("b", 1));
    assert.match(simNodeAddress("a", 0), /^0x[0-9a-fA-F]{40}$/);
    assert.notEqual(simNodeAddress("a", 0), simNodeAddress("a", 1));
  });
});
