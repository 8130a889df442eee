import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";
import { createRng } from "../../node/src/random/rng.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const harnessFixture = () => ethers.deployContract("WeightedMedianHarness", []);

/**
 * TypeScript reference of the lower weighted median: the smallest value m such that the weight
 * of all values <= m is at least half of the total. Zero total gives (0, 0).
 */
function lowerMedianReference(values: bigint[], weights: bigint[]): [bigint, bigint] {
  const total = weights.reduce((a, b) => a + b, 0n);
  if (total === 0n) return [0n, 0n];
  const distinct = [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const m of distinct) {
    const atOrBelow = values.reduce((acc, v, i) => (v <= m ? acc + weights[i]! : acc), 0n);
    if (2n * atOrBelow >= total) return [m, total];
  }
  throw new Error("unreachable");
}

const CASES: { name: string; values: bigint[]; weights: bigint[]; median: bigint }[] = [
  { name: "one validator", values: [420n], weights: [7n], median: 420n },
  { name: "odd count, equal weights", values: [30n, 10n, 20n], weights: [1n, 1n, 1n], median: 20n },
  {
    name: "even count, equal weights: the lower middle",
    values: [10n, 20n],
    weights: [5n, 5n],
    median: 10n,
  },
  {
    name: "four equal weights: the lower of the two middles",
    values: [40n, 10n, 30n, 20n],
    weights: [1n, 1n, 1n, 1n],
    median: 20n,
  },
  { name: "ties pool their weight", values: [5n, 5n, 9n], weights: [1n, 1n, 3n], median: 9n },
  {
    name: "ties reaching exactly half",
    values: [5n, 5n, 9n, 9n],
    weights: [1n, 1n, 1n, 1n],
    median: 5n,
  },
  { name: "all equal", values: [7n, 7n, 7n], weights: [2n, 3n, 4n], median: 7n },
  {
    name: "a heavy minority value wins",
    values: [900_000n, 900_000n, 0n],
    weights: [1n, 1n, 3n],
    median: 0n,
  },
  {
    name: "a majority of weight wins regardless of count",
    values: [1n, 2n, 3n, 4n, 100n],
    weights: [1n, 1n, 1n, 1n, 5n],
    median: 100n,
  },
  { name: "just below half does not decide", values: [1n, 2n], weights: [49n, 51n], median: 2n },
  {
    name: "exactly half decides (lower median)",
    values: [1n, 2n],
    weights: [50n, 50n],
    median: 1n,
  },
  {
    name: "zero-weight entries never decide",
    values: [0n, 500n, 700n],
    weights: [0n, 1n, 1n],
    median: 500n,
  },
  { name: "no entries", values: [], weights: [], median: 0n },
  { name: "all weights zero", values: [3n, 4n], weights: [0n, 0n], median: 0n },
  {
    name: "stake-sized weights",
    values: [0n, 1_000_000n, 600_000n],
    weights: [10n ** 21n, 3n * 10n ** 21n, 10n ** 21n],
    median: 1_000_000n,
  },
];

describe("WeightedMedian (lower stake-weighted median) and Settlement math", function () {
  describe("lowerMedian", function () {
    for (const c of CASES) {
      it(`${c.name}: median ${c.median}`, async function () {
        const harness = await networkHelpers.loadFixture(harnessFixture);
        const total = c.weights.reduce((a, b) => a + b, 0n);
        const [median, returnedTotal] = await harness.lowerMedian(c.values, c.weights);
        expect(median).to.equal(c.median);
        expect(returnedTotal).to.equal(c.values.length === 0 || total === 0n ? 0n : total);
        expect(lowerMedianReference(c.values, c.weights)).to.deep.equal([c.median, returnedTotal]);
      });
    }

    it("agrees with the TypeScript reference on 200 seeded random cases", async function () {
      const harness = await networkHelpers.loadFixture(harnessFixture);
      const rng = createRng("WeightedMedian random cases");
      for (let i = 0; i < 200; i++) {
        const n = 1 + rng.nextInt(12);
        // few distinct values so that ties are common
        const values = Array.from({ length: n }, () => BigInt(rng.nextInt(6) * 200_000));
        const weights = Array.from({ length: n }, () => BigInt(rng.nextInt(5)) * 10n ** 18n);
        const got = await harness.lowerMedian(values, weights);
        expect([got[0], got[1]], `case ${i}: ${values} / ${weights}`).to.deep.equal(
          lowerMedianReference(values, weights),
        );
      }
    });

    it("does not depend on the order of the entries", async function () {
      const harness = await networkHelpers.loadFixture(harnessFixture);
      const rng = createRng("WeightedMedian permutations");
      const values = [0n, 100n, 100n, 300n, 700n, 700n, 900n];
      const weights = [3n, 1n, 2n, 5n, 1n, 1n, 4n];
      const expected = lowerMedianReference(values, weights);
      for (let i = 0; i < 10; i++) {
        const order = rng.shuffle(values.map((_, j) => j));
        const got = await harness.lowerMedian(
          order.map((j) => values[j]!),
          order.map((j) => weights[j]!),
        );
        expect([got[0], got[1]]).to.deep.equal(expected);
      }
    });

    it("reverts WeightedMedianLengthMismatch when fewer entries than the count are given", async function () {
      const harness = await networkHelpers.loadFixture(harnessFixture);
      await expect(harness.lowerMedian([1n, 2n], [1n]))
        .to.be.revertedWithCustomError(harness, "WeightedMedianLengthMismatch")
        .withArgs(1n, 2n);
    });

    it("reverts WeightedMedianEntryOverflow for a value or weight of 2^128 or more", async function () {
      const harness = await networkHelpers.loadFixture(harnessFixture);
      await expect(harness.lowerMedian([2n ** 128n], [1n]))
        .to.be.revertedWithCustomError(harness, "WeightedMedianEntryOverflow")
        .withArgs(2n ** 128n, 1n);
      await expect(harness.lowerMedian([1n], [2n ** 128n]))
        .to.be.revertedWithCustomError(harness, "WeightedMedianEntryOverflow")
        .withArgs(1n, 2n ** 128n);
      const [median] = await harness.lowerMedian([2n ** 128n - 1n, 0n], [2n ** 128n - 1n, 1n]);
      expect(median).to.equal(2n ** 128n - 1n);
    });
  });

  describe("modelMajority", function () {
    const A = id("A");
    const B = id("B");
    const C = id("C");
    const MAJORITY_CASES: {
      name: string;
      hashes: string[];
      weights: bigint[];
      found: boolean;
      hash: string;
      backing: bigint;
    }[] = [
      {
        name: "unanimous",
        hashes: [A, A, A],
        weights: [1n, 1n, 1n],
        found: true,
        hash: A,
        backing: 3n,
      },
      {
        name: "exactly two thirds",
        hashes: [A, B, A],
        weights: [1n, 1n, 1n],
        found: true,
        hash: A,
        backing: 2n,
      },
      {
        name: "just below two thirds",
        hashes: [A, B],
        weights: [666n, 334n],
        found: false,
        hash: ethers.ZeroHash,
        backing: 0n,
      },
      {
        name: "two thirds by stake against a count majority",
        hashes: [B, B, A],
        weights: [1n, 1n, 4n],
        found: true,
        hash: A,
        backing: 4n,
      },
      {
        name: "three-way split",
        hashes: [A, B, C],
        weights: [1n, 1n, 1n],
        found: false,
        hash: ethers.ZeroHash,
        backing: 0n,
      },
      { name: "one voter", hashes: [C], weights: [5n], found: true, hash: C, backing: 5n },
      {
        name: "no voters",
        hashes: [],
        weights: [],
        found: false,
        hash: ethers.ZeroHash,
        backing: 0n,
      },
    ];
    for (const c of MAJORITY_CASES) {
      it(`${c.name}: ${c.found ? "majority" : "none"}`, async function () {
        const harness = await networkHelpers.loadFixture(harnessFixture);
        const got = await harness.modelMajority(c.hashes, c.weights);
        expect([got[0], got[1], got[2]]).to.deep.equal([c.found, c.hash, c.backing]);
      });
    }
  });

  describe("split", function () {
    it("rounds every share down, so the sum never exceeds the pool and the dust stays under one unit per payee", async function () {
      const harness = await networkHelpers.loadFixture(harnessFixture);
      const rng = createRng("Settlement.split cases");
      for (let i = 0; i < 50; i++) {
        const n = 1 + rng.nextInt(10);
        const weights = Array.from({ length: n }, () => BigInt(rng.nextInt(1_000_000)));
        const pool = BigInt(rng.nextInt(1_000_000_000)) * 10n ** 9n + BigInt(rng.nextInt(1000));
        const sum = weights.reduce((a, b) => a + b, 0n);
        const [shares, paid] = await harness.split(pool, weights);
        const expected = weights.map((w) => (sum === 0n ? 0n : (pool * w) / sum));
        expect([...shares]).to.deep.equal(expected);
        expect(paid).to.equal(expected.reduce((a, b) => a + b, 0n));
        expect(paid).to.be.lessThanOrEqual(pool);
        if (sum > 0n) expect(pool - paid).to.be.lessThan(BigInt(n));
      }
    });

    it("pays nothing when every weight is zero", async function () {
      const harness = await networkHelpers.loadFixture(harnessFixture);
      const [shares, paid] = await harness.split(1000n, [0n, 0n]);
      expect([...shares, paid]).to.deep.equal([0n, 0n, 0n]);
    });
  });
});
