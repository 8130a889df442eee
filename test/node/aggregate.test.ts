import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Hex } from "viem";

import {
  AggregationError,
  aggregateUpdates,
  updateNorm,
  type NodeUpdate,
} from "../../node/src/aggregate/index.js";
import { SeededRandom } from "./fixtures/prng.js";

function address(seed: number): Hex {
  return `0x${seed.toString(16).padStart(2, "0").repeat(20)}` as Hex;
}

function nodes(...updates: number[][]): NodeUpdate[] {
  return updates.map((values, j) => ({
    address: address(j + 1),
    update: new Float32Array(values),
  }));
}

function bytesOf(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function shuffled<T>(items: readonly T[], random: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

function rejects(run: () => unknown, code: string): void {
  assert.throws(
    run,
    (error: unknown) =>
      error instanceof AggregationError && error.code === code && (error.fix ?? "").length > 0,
  );
}

/** Honest updates: a shared direction plus per-node noise, like pseudo-gradients of one round. */
function honestRound(random: SeededRandom, m: number, n: number): NodeUpdate[] {
  const direction = random.gaussian(n, 0.05);
  return Array.from({ length: m }, () => {
    const update = random.gaussian(n, 0.01);
    for (let i = 0; i < n; i++) update[i] = update[i]! + direction[i]!;
    return {
      address:
        `0x${[...random.bytes(20)].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex,
      update,
    };
  });
}

describe("aggregation: determinism", () => {
  it("gives bit-identical bytes for the same updates in any order and any address case", () => {
    const random = new SeededRandom(9);
    const round = honestRound(random, 9, 5000);
    for (const method of ["trimmed-mean", "median"] as const) {
      const reference = bytesOf(aggregateUpdates(round, { method }).delta);
      for (let trial = 0; trial < 20; trial++) {
        const reordered = shuffled(round, random).map((node, j) => ({
          ...node,
          address: (j % 2 === 0
            ? node.address.toUpperCase().replace("0X", "0x")
            : node.address) as Hex,
        }));
        assert.ok(
          bytesOf(aggregateUpdates(reordered, { method }).delta).equals(reference),
          `${method}, trial ${trial}`,
        );
      }
    }
  });

  it("reports nodes in ascending lowercase address order with their norms and clip factors", () => {
    const input: NodeUpdate[] = [
      {
        address: "0xBB00000000000000000000000000000000000000",
        update: new Float32Array([3, 4]),
        samples: 10,
      },
      {
        address: "0xaa00000000000000000000000000000000000000",
        update: new Float32Array([0, 1]),
        samples: 20,
      },
      { address: "0x0c00000000000000000000000000000000000000", update: new Float32Array([30, 40]) },
    ];
    const result = aggregateUpdates(input, { clipMultiple: 2, method: "median" });
    assert.deepEqual(
      result.nodes.map(({ address, norm, clipFactor, samples }) => [
        address,
        norm,
        clipFactor,
        samples,
      ]),
      [
        ["0x0c00000000000000000000000000000000000000", 50, 10 / 50, undefined],
        ["0xaa00000000000000000000000000000000000000", 1, 1, 20],
        ["0xbb00000000000000000000000000000000000000", 5, 1, 10],
      ],
    );
    assert.equal(result.medianNorm, 5);
    assert.equal(result.clipThreshold, 10);
  });
});

describe("aggregation: hand-computed cases", () => {
  it("median of an odd count is the middle value, of an even count the mean of the two middle values", () => {
    const odd = aggregateUpdates(nodes([1, -5], [3, 0], [2, 5]), {
      method: "median",
      clipMultiple: 100,
    });
    assert.deepEqual([...odd.delta], [2, 0]);
    const even = aggregateUpdates(nodes([1, 8], [4, 2], [2, 6], [3, 4]), {
      method: "median",
      clipMultiple: 100,
    });
    assert.deepEqual([...even.delta], [2.5, 5]);
  });

  it("trimmed mean drops floor(trim · m) values from each end of every coordinate", () => {
    // m = 5, trim 0.2 → one value dropped at each end: mean of the middle three.
    const result = aggregateUpdates(nodes([1, 10], [2, -10], [3, 0], [4, 1], [100, 2]), {
      trimFraction: 0.2,
      clipMultiple: 1000,
    });
    assert.equal(result.trimmedPerSide, 1);
    assert.deepEqual([...result.delta], [3, 1]);
    // trim 0 is the plain mean.
    const mean = aggregateUpdates(nodes([1, 10], [2, -10], [3, 0], [4, 1], [100, 2]), {
      trimFraction: 0,
      clipMultiple: 1000,
    });
    assert.deepEqual([...mean.delta], [22, Math.fround(3 / 5)]);
  });

  it("clips norms above clipMultiple × median norm before combining", () => {
    // Norms 5, 5, 50 → median 5, threshold 10: the third update is scaled by 1/5.
    const result = aggregateUpdates(nodes([3, 4], [3, 4], [30, 40]), {
      clipMultiple: 2,
      trimFraction: 0,
    });
    assert.deepEqual(
      result.nodes.map((node) => node.clipFactor),
      [1, 1, 0.2],
    );
    assert.deepEqual([...result.delta], [Math.fround(12 / 3), Math.fround(16 / 3)]);
  });

  it("accumulates in float64 and rounds once to float32", () => {
    // In float32, 2^24 + 1 + 1 would round twice and lose both ones; float64 keeps them.
    const result = aggregateUpdates(nodes([2 ** 24], [1], [1]), {
      trimFraction: 0,
      clipMultiple: 1e9,
    });
    assert.equal(result.delta[0], Math.fround((2 ** 24 + 2) / 3));
  });

  it("never writes negative zero", () => {
    const result = aggregateUpdates(nodes([-0, -1e-50], [-0, -1e-50]), {
      trimFraction: 0,
      clipMultiple: 1,
    });
    assert.ok(Object.is(result.delta[0], 0) && Object.is(result.delta[1], 0));
  });
});

describe("aggregation: edge cases", () => {
  it("one update comes back unchanged (clipMultiple ≥ 1)", () => {
    const update = new SeededRandom(1).gaussian(100);
    for (const method of ["trimmed-mean", "median"] as const) {
      assert.deepEqual(
        aggregateUpdates([{ address: address(7), update }], { method }).delta,
        update,
      );
    }
  });

  it("two updates give their mean under both rules", () => {
    for (const method of ["trimmed-mean", "median"] as const) {
      const result = aggregateUpdates(nodes([1, -2, 4], [3, 2, 5]), { method, clipMultiple: 10 });
      assert.deepEqual([...result.delta], [2, 0, 4.5]);
      assert.equal(result.trimmedPerSide, 0);
    }
  });

  it("identical updates give that update", () => {
    const update = new SeededRandom(2).gaussian(64);
    const same = [1, 2, 3, 4, 5, 6].map((seed) => ({ address: address(seed), update }));
    for (const method of ["trimmed-mean", "median"] as const)
      assert.deepEqual(aggregateUpdates(same, { method }).delta, update);
  });

  it("all-zero updates give zeros (median norm 0 clips nothing that is non-zero)", () => {
    const result = aggregateUpdates(nodes([0, 0], [0, 0], [0, 0]));
    assert.deepEqual([...result.delta], [0, 0]);
    assert.equal(result.medianNorm, 0);
  });

  it("refuses empty input, bad addresses, duplicates, length mismatches, non-finite values and bad options", () => {
    rejects(() => aggregateUpdates([]), "AGGREGATE_NO_UPDATES");
    rejects(
      () => aggregateUpdates([{ address: "0x1234", update: new Float32Array(1) }]),
      "AGGREGATE_BAD_ADDRESS",
    );
    rejects(
      () =>
        aggregateUpdates([
          ...nodes([1]),
          {
            address: address(1).toUpperCase().replace("0X", "0x") as Hex,
            update: new Float32Array([2]),
          },
        ]),
      "AGGREGATE_DUPLICATE_NODE",
    );
    rejects(() => aggregateUpdates(nodes([1, 2], [1])), "AGGREGATE_LENGTH_MISMATCH");
    rejects(() => aggregateUpdates(nodes([1, Number.NaN], [1, 2])), "AGGREGATE_NON_FINITE");
    rejects(() => aggregateUpdates(nodes([1]), { clipMultiple: 0 }), "AGGREGATE_BAD_OPTIONS");
    rejects(() => aggregateUpdates(nodes([1]), { trimFraction: 0.5 }), "AGGREGATE_BAD_OPTIONS");
    rejects(
      () => aggregateUpdates(nodes([1]), { method: "mean" as "median" }),
      "AGGREGATE_BAD_OPTIONS",
    );
  });
});

describe("aggregation: robustness", () => {
  const n = 2000;
  for (const method of ["trimmed-mean", "median"] as const) {
    for (const attack of ["scaled ×100", "sign-flipped", "sign-flipped ×100"] as const) {
      it(`one ${attack} update moves the ${method} less than the clip bound`, () => {
        const random = new SeededRandom(31);
        const honest = honestRound(random, 7, n);
        const clean = aggregateUpdates(honest, { method });
        const factor = attack === "scaled ×100" ? 100 : attack === "sign-flipped" ? -1 : -100;
        const attacked = honest.map((node, j) =>
          j === 3 ? { ...node, update: node.update.map((v) => v * factor) } : node,
        );
        const result = aggregateUpdates(attacked, { method });
        const moved = distance(result.delta, clean.delta);
        assert.ok(
          moved < result.clipThreshold,
          `moved ${moved}, clip bound ${result.clipThreshold}`,
        );
        // And much less than the attacker's unclipped norm.
        assert.ok(moved < updateNorm(attacked[3]!.update) / 10, `moved ${moved}`);
      });
    }
  }

  it("without trimming, clipping alone bounds the shift of the mean by 2 × clip bound / m", () => {
    const random = new SeededRandom(32);
    const honest = honestRound(random, 5, n);
    const clean = aggregateUpdates(honest, { trimFraction: 0 });
    const attacked = honest.map((node, j) =>
      j === 0 ? { ...node, update: node.update.map((v) => v * -1000) } : node,
    );
    const result = aggregateUpdates(attacked, { trimFraction: 0 });
    assert.ok(distance(result.delta, clean.delta) <= (2 * result.clipThreshold) / 5 + 1e-6);
  });
});

/**
 * One crafted update that passes scoring, at the round sizes runs have (m = 3, 5, 8, default trim
 * 10 %). "backdoor": the mean of the other updates (so it still lowers the loss) plus a fixed
 * target direction, scaled to 0.99 × the clip threshold so clipping leaves it whole. "in-range":
 * every coordinate at the others' mean + 1.5 standard deviations against the shared direction
 * (it hides inside the honest spread). Displacement = ‖aggregate with the attacker −
 * aggregate with an honest update in its place‖ / median honest norm, mean of 5 seeds.
 * Before = ⌊0.1 · m⌋ = 0 trimmed (the plain mean, trimFraction 0); after = trim floor of 1.
 * docs/aggregation.md records the table these assertions pin.
 */
function craftedDisplacement(
  m: number,
  noise: number,
  kind: "backdoor" | "in-range",
  trimFraction: number,
): number {
  const seeds = 5;
  const n = 5000;
  let total = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const random = new SeededRandom(seed * 100 + m);
    const direction = random.gaussian(n, 0.05);
    const honest = Array.from({ length: m }, (_, j) => {
      const update = random.gaussian(n, noise);
      for (let i = 0; i < n; i++) update[i] = update[i]! + direction[i]!;
      return { address: `0x${(seed * 100 + j + 1).toString(16).padStart(40, "0")}` as Hex, update };
    });
    const base = aggregateUpdates(honest, { trimFraction }).delta;
    const norms = honest.map(({ update }) => updateNorm(update)).sort((a, b) => a - b);
    const medianNorm = m % 2 === 1 ? norms[m >> 1]! : (norms[m / 2 - 1]! + norms[m / 2]!) / 2;
    const others = honest.slice(1);
    const mean = new Float64Array(n);
    for (const { update } of others)
      for (let i = 0; i < n; i++) mean[i] = mean[i]! + update[i]! / others.length;
    const crafted = new Float32Array(n);
    if (kind === "backdoor") {
      const target = random.gaussian(n, 1);
      const meanNorm = updateNorm(Float32Array.from(mean));
      const room = Math.sqrt((0.99 * 2 * medianNorm) ** 2 - meanNorm ** 2);
      const scale = room / updateNorm(target);
      for (let i = 0; i < n; i++) crafted[i] = mean[i]! + scale * target[i]!;
    } else {
      for (let i = 0; i < n; i++) {
        let variance = 0;
        for (const { update } of others) variance += (update[i]! - mean[i]!) ** 2;
        const sd = Math.sqrt(variance / others.length);
        crafted[i] = mean[i]! + 1.5 * sd * (direction[i]! > 0 ? -1 : 1);
      }
    }
    const attacked = aggregateUpdates(
      [{ address: honest[0]!.address, update: crafted }, ...others],
      { trimFraction },
    ).delta;
    total += distance(attacked, base) / medianNorm;
  }
  return total / seeds;
}

describe("aggregation: one crafted update at 3–10 updates (trim floor)", () => {
  it("trims at least one value from each end once m ≥ 3 (trim 10 %), none at trim 0 or m ≤ 2", () => {
    const trimmed = (m: number, trimFraction: number): number =>
      aggregateUpdates(
        Array.from({ length: m }, (_, j) => ({
          address: address(j + 1),
          update: new Float32Array([j]),
        })),
        { trimFraction },
      ).trimmedPerSide;
    assert.deepEqual(
      [2, 3, 5, 8, 9, 10, 19, 20, 25].map((m) => trimmed(m, 0.1)),
      [0, 1, 1, 1, 1, 1, 1, 2, 2],
    );
    assert.deepEqual(
      [3, 8, 20].map((m) => trimmed(m, 0)),
      [0, 0, 0],
    );
    // m = 3 with a 10 % trim is the coordinate-wise median: an outlier does not move it.
    const result = aggregateUpdates(nodes([1, 10], [2, -10], [300, 0]), {
      trimFraction: 0.1,
      clipMultiple: 1000,
    });
    assert.deepEqual([...result.delta], [2, 0]);
  });

  it("moves the model less under a crafted in-clip update at m = 3, 5, 8", () => {
    const measured: Record<string, string> = {};
    for (const noise of [0.01, 0.05]) {
      for (const m of [3, 5, 8]) {
        const before = craftedDisplacement(m, noise, "backdoor", 0);
        const after = craftedDisplacement(m, noise, "backdoor", 0.1);
        const inRangeBefore = craftedDisplacement(m, noise, "in-range", 0);
        const inRangeAfter = craftedDisplacement(m, noise, "in-range", 0.1);
        measured[`σ${noise} m${m}`] =
          `${before.toFixed(3)}→${after.toFixed(3)} / ${inRangeBefore.toFixed(3)}→${inRangeAfter.toFixed(3)}`;
        // Before, the plain mean: the crafted update moves the model by about 2τ/m·(1 − …).
        assert.ok(before > 1.6 / m, `${noise} ${m}: before ${before}`);
        // After: the backdoor's in-clip excess is trimmed in most coordinates.
        assert.ok(after < before * (noise === 0.01 ? 0.35 : 0.9), `${noise} ${m}: ${after}`);
        // The worst of both crafted updates is never worse than the worst before.
        assert.ok(
          Math.max(after, inRangeAfter) < Math.max(before, inRangeBefore),
          `${noise} ${m}: worst ${Math.max(after, inRangeAfter)}`,
        );
      }
    }
    // Pinned numbers (docs/aggregation.md, "One crafted update at 3–10 updates").
    assert.deepEqual(measured, {
      "σ0.01 m3": "0.577→0.170 / 0.106→0.174",
      "σ0.01 m5": "0.346→0.086 / 0.068→0.088",
      "σ0.01 m8": "0.216→0.052 / 0.043→0.050",
      "σ0.05 m3": "0.660→0.579 / 0.383→0.628",
      "σ0.05 m5": "0.396→0.283 / 0.244→0.315",
      "σ0.05 m8": "0.246→0.169 / 0.154→0.180",
    });
  });
});
