import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { keccak256, toBytes, type Address, type Hex } from "viem";
import type { Dataset } from "../../node/src/data/dataset.js";
import { loadMnist } from "../../node/src/data/mnist.js";
import { validationBatches } from "../../node/src/validate/validation-batches.js";

/**
 * S5 of issue 9 (docs/validation.md, "Known limits" in v1): the validation batches were a
 * function of the round seed alone, public when the round opened, so a trainer could spend its
 * inner steps fitting exactly the examples it would be scored on (measured in v1: accepted 10
 * rounds of 10, 194 % of the honest reward). In v2 the batches and the control shard mix in the
 * round's randomness rand_r, which the contract fixes only after the commit deadline
 * (test/contracts/RoundsV2Attacks.test.ts, S5/P3), so while training the trainer can at best
 * guess them.
 */
const SEED: Hex = keccak256(toBytes("challenge-test/seed"));
const NODE: Address = "0x00000000000000000000000000000000000a11ce";
const BATCH = 64;
const SHARDS = 8;
const CHALLENGES = 64;

let dataset: Dataset;

before(async () => {
  dataset = await loadMnist();
});

function overlap(a: readonly number[], b: readonly number[]): number {
  const set = new Set(a);
  return b.filter((i) => set.has(i)).length;
}

describe("S5: a trainer cannot fit the batches it is scored on", () => {
  it("ATTACK: the batches computable while training (from the seed) are the ones scored under v1's rule, and only chance overlaps under v2's", () => {
    // What the attacker computes during the commit phase: everything public then (seed, its address).
    const predicted = validationBatches({ dataset, seed: SEED, node: NODE, batchSize: BATCH, numShards: SHARDS });
    // v1: the validator drew from the same public values, so the attack hit every example.
    const v1 = validationBatches({ dataset, seed: SEED, node: NODE, batchSize: BATCH, numShards: SHARDS });
    assert.deepEqual(v1.assigned.indices, predicted.assigned.indices);
    assert.deepEqual(v1.random.indices, predicted.random.indices);

    // v2: the validator mixes in rand_r, unknown until after the commit deadline.
    let sharedExamples = 0;
    let sameControlShard = 0;
    for (let c = 0; c < CHALLENGES; c++) {
      const challenge = keccak256(toBytes(`challenge-test/rand/${c}`));
      const actual = validationBatches({ dataset, seed: SEED, node: NODE, batchSize: BATCH, numShards: SHARDS, challenge });
      assert.equal(actual.assigned.shard, predicted.assigned.shard, "the assigned shard is the trainer's own data, known to it");
      sharedExamples += overlap(predicted.assigned.indices, actual.assigned.indices);
      if (actual.random.shard === predicted.random.shard) {
        ++sameControlShard;
        sharedExamples += overlap(predicted.random.indices, actual.random.indices);
      }
    }
    // Chance: a 64-example batch from a 7,500-example shard shares ~0.5 examples with another one,
    // and the control shard is one of 7. Fitting the predicted examples buys next to nothing.
    const perBatch = sharedExamples / CHALLENGES / 2;
    assert.ok(perBatch < 0.05 * BATCH, `the predicted batches share ${perBatch.toFixed(2)} of ${BATCH} examples per batch`);
    assert.ok(sameControlShard < CHALLENGES / 3, `the control shard was predictable in ${sameControlShard} of ${CHALLENGES} rounds`);
  });
});
