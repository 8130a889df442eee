import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { encodePacked, hexToBytes, keccak256, type Address, type Hex } from "viem";

import type { Dataset } from "../../node/src/data/dataset.js";
import { loadMnist } from "../../node/src/data/mnist.js";
import {
  assignShard,
  shardBatch,
  shardBatchIndices,
  shardRange,
} from "../../node/src/data/shard.js";
import { loadTextDataset } from "../../node/src/data/text.js";
import { ProtolearnError } from "../../node/src/errors.js";
import { createRng, xoshiro128StarStar } from "../../node/src/random/index.js";

const SEED: Hex = `0x${"11".repeat(32)}`;
const NODE_A: Address = "0x1111111111111111111111111111111111111111";
const NODE_B: Address = "0x2222222222222222222222222222222222222222";

function isCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof ProtolearnError && error.code === code;
}

describe("seeded PRNG", () => {
  it("xoshiro128** matches the reference implementation's output for state {1, 2, 3, 4}", () => {
    const rng = xoshiro128StarStar([1, 2, 3, 4]);
    const out = Array.from({ length: 10 }, () => rng.nextUint32());
    assert.deepEqual(
      out,
      [
        11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597,
        4258142804,
      ],
    );
  });

  it("createRng gives a pinned sequence for a pinned seed", () => {
    const rng = createRng("protolearn");
    assert.deepEqual(
      [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()],
      [2019098707, 2595670809, 3052660672],
    );
  });

  it("a bigint seed equals its 32 big-endian bytes; a string seed is a label, not hex", () => {
    const first = (seed: Parameters<typeof createRng>[0]): number => createRng(seed).nextUint32();
    assert.equal(first(BigInt(SEED)), first(hexToBytes(SEED)));
    assert.notEqual(first(SEED), first(hexToBytes(SEED)));
    assert.throws(() => createRng(-1n), isCode("RNG_SEED_RANGE"));
    assert.throws(() => createRng(1n << 256n), isCode("RNG_SEED_RANGE"));
  });

  it("fork gives independent streams without advancing the parent", () => {
    const parent = createRng("p");
    const reference = createRng("p").nextUint32();
    const a = parent.fork("a").nextUint32();
    assert.equal(parent.nextUint32(), reference);
    assert.equal(createRng("p").fork("a").nextUint32(), a);
    assert.notEqual(createRng("p").fork("b").nextUint32(), a);
  });

  it("nextInt stays in range and reaches every value; nextFloat stays in [0, 1)", () => {
    const rng = createRng("ranges");
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = rng.nextInt(7);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 7);
      seen.add(v);
      const f = rng.nextFloat();
      assert.ok(f >= 0 && f < 1);
    }
    assert.equal(seen.size, 7);
    assert.throws(() => rng.nextInt(0), isCode("RNG_BOUND_RANGE"));
    assert.throws(() => rng.nextInt(2.5), isCode("RNG_BOUND_RANGE"));
  });

  it("shuffle is a deterministic permutation", () => {
    const a = createRng("s").shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = createRng("s").shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(a, b);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.notDeepEqual(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe("MNIST from the mnist package", () => {
  let mnist: Dataset;
  before(async () => {
    mnist = await loadMnist();
  });

  it("holds the 10,000 shipped digits, split 9,000 train / 1,000 held out", () => {
    assert.equal(mnist.id, "mnist-v1");
    assert.deepEqual(mnist.exampleShape, [784]);
    assert.equal(mnist.numClasses, 10);
    assert.deepEqual(mnist.size, { train: 9000, eval: 1000 });
  });

  it("the held-out split contains every digit and pixels lie in [0, 1]", () => {
    const all = mnist.batch(
      "eval",
      Array.from({ length: 1000 }, (_, i) => i),
    );
    const counts = new Array<number>(10).fill(0);
    for (const label of all.y) counts[label] = (counts[label] as number) + 1;
    assert.ok(
      counts.every((c) => c > 50),
      `eval class counts ${counts.join(",")}`,
    );
    assert.ok(all.x.every((v) => v >= 0 && v <= 1));
    assert.ok(
      all.x.some((v) => v > 0.9),
      "images are not blank",
    );
  });

  it("a second load returns identical examples (fixed order, no Math.random)", async () => {
    const again = await loadMnist();
    const indices = [0, 1, 4321, 8999];
    assert.deepEqual(again.batch("train", indices), mnist.batch("train", indices));
  });

  it("a custom eval size changes the id and the split; bad indices and sizes are refused", async () => {
    const small = await loadMnist({ evalSize: 500 });
    assert.equal(small.id, "mnist-v1-eval500");
    assert.deepEqual(small.size, { train: 9500, eval: 500 });
    await assert.rejects(loadMnist({ evalSize: 10_000 }), isCode("DATA_BAD_SPLIT"));
    assert.throws(() => mnist.batch("eval", [1000]), isCode("DATA_INDEX_RANGE"));
    assert.throws(() => mnist.batch("train", [-1]), isCode("DATA_INDEX_RANGE"));
  });
});

describe("shard assignment", () => {
  it("is uint256(keccak256(abi.encodePacked(seed, node))) mod numShards", () => {
    for (const node of [NODE_A, NODE_B, "0x3333333333333333333333333333333333333333" as Address]) {
      const expected = Number(
        BigInt(keccak256(encodePacked(["bytes32", "address"], [SEED, node]))) % 8n,
      );
      assert.equal(assignShard(SEED, node, 8), expected);
    }
    assert.equal(assignShard(SEED, NODE_A, 8), 4);
    assert.equal(assignShard(SEED, NODE_B, 8), 6);
  });

  it("takes the seed as hex or bytes and the address in any case", () => {
    const mixed: Address = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
    const shard = assignShard(SEED, mixed, 13);
    assert.equal(assignShard(hexToBytes(SEED), mixed.toLowerCase() as Address, 13), shard);
    assert.throws(() => assignShard("0x1234", NODE_A, 8), isCode("DATA_BAD_SEED"));
    assert.throws(() => assignShard(SEED, "0x1234" as Address, 8), isCode("DATA_BAD_ADDRESS"));
    assert.throws(() => assignShard(SEED, NODE_A, 0), isCode("DATA_BAD_SHARDS"));
  });

  it("shard ranges partition the training split", () => {
    let next = 0;
    for (let s = 0; s < 7; s++) {
      const { start, end } = shardRange(9000, s, 7);
      assert.equal(start, next);
      assert.ok(end - start === 1285 || end - start === 1286);
      next = end;
    }
    assert.equal(next, 9000);
  });

  it("the same (seed, node, step) always gives the same batch, drawn without repeats from the node's shard", async () => {
    const mnist = await loadMnist();
    const source = {
      seed: SEED,
      node: NODE_A,
      step: 3,
      batchSize: 64,
      trainSize: 9000,
      shard: 4,
      numShards: 8,
    };
    const indices = shardBatchIndices(source);
    assert.deepEqual(shardBatchIndices({ ...source }), indices);
    assert.equal(new Set(indices).size, 64);
    const { start, end } = shardRange(9000, 4, 8);
    assert.ok(indices.every((i) => i >= start && i < end));
    assert.deepEqual(shardBatch(mnist, SEED, NODE_A, 3, 64), mnist.batch("train", indices));
    assert.deepEqual(
      shardBatch(mnist, SEED, NODE_A, 3, 64),
      shardBatch(mnist, SEED, NODE_A, 3, 64),
    );
    // Pinned: a validator on another machine must draw exactly these.
    assert.deepEqual(
      shardBatchIndices({ ...source, step: 0, batchSize: 5, shard: 3 }),
      [3652, 4098, 3531, 3835, 4332],
    );
  });

  it("different nodes train on different shards; different steps and seeds give different batches", async () => {
    const mnist = await loadMnist();
    assert.notEqual(assignShard(SEED, NODE_A, 8), assignShard(SEED, NODE_B, 8));
    const a = new Set(shardBatch(mnist, SEED, NODE_A, 0, 32).x);
    const aIndices = shardBatchIndices({
      seed: SEED,
      node: NODE_A,
      step: 0,
      batchSize: 32,
      trainSize: 9000,
      shard: 4,
      numShards: 8,
    });
    const bIndices = shardBatchIndices({
      seed: SEED,
      node: NODE_B,
      step: 0,
      batchSize: 32,
      trainSize: 9000,
      shard: 6,
      numShards: 8,
    });
    assert.equal(
      aIndices.filter((i) => bIndices.includes(i)).length,
      0,
      "disjoint shards share no example",
    );
    assert.ok(a.size > 1);
    const step1 = shardBatchIndices({
      seed: SEED,
      node: NODE_A,
      step: 1,
      batchSize: 32,
      trainSize: 9000,
      shard: 4,
      numShards: 8,
    });
    assert.notDeepEqual(step1, aIndices);
    const otherSeed: Hex = `0x${"22".repeat(32)}`;
    const reseeded = shardBatchIndices({
      seed: otherSeed,
      node: NODE_A,
      step: 0,
      batchSize: 32,
      trainSize: 9000,
      shard: 4,
      numShards: 8,
    });
    assert.notDeepEqual(reseeded, aIndices);
  });

  it("a batch larger than the shard is refused with the largest size that fits", () => {
    assert.throws(
      () =>
        shardBatchIndices({
          seed: SEED,
          node: NODE_A,
          step: 0,
          batchSize: 2000,
          trainSize: 9000,
          shard: 0,
          numShards: 8,
        }),
      (e: unknown) =>
        e instanceof ProtolearnError &&
        e.code === "DATA_BAD_BATCH" &&
        (e.fix ?? "").includes("1125"),
    );
  });
});

describe("text dataset from a local file", () => {
  let dir: string;
  let file: string;
  const text = "hello world. hello protolearn. ".repeat(8) + "é!";

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "protolearn-text-"));
    file = path.join(dir, "corpus.txt");
    await writeFile(file, text, "utf8");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds a sorted character vocabulary and a contiguous held-out tail", async () => {
    const ds = await loadTextDataset(file, { contextLength: 4, evalFraction: 0.25 });
    const chars = [...new Set(Array.from(text))].sort(
      (a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number),
    );
    assert.deepEqual(ds.vocabulary, chars);
    assert.equal(ds.numClasses, chars.length);
    assert.deepEqual(ds.exampleShape, [4 * chars.length]);
    const targets = Array.from(text).length - 4;
    assert.equal(ds.size.eval, Math.floor(targets * 0.25));
    assert.equal(ds.size.train + ds.size.eval, targets);
    assert.match(ds.id, /^text-v1:0x[0-9a-f]{16}:c4:e0\.25$/);
  });

  it("encodes an example as the one-hot previous characters with the next character as label", async () => {
    const ds = await loadTextDataset(file, { contextLength: 4, evalFraction: 0.25 });
    const v = ds.numClasses;
    const batch = ds.batch("train", [0, 6]);
    const decode = (row: number): string => {
      let out = "";
      for (let c = 0; c < 4; c++) {
        const slot = batch.x.subarray(row * 4 * v + c * v, row * 4 * v + (c + 1) * v);
        assert.equal(
          slot.reduce((a, b) => a + b, 0),
          1,
          "exactly one hot value per position",
        );
        out += ds.vocabulary[slot.indexOf(1)];
      }
      return out;
    };
    assert.equal(decode(0), "hell");
    assert.equal(ds.vocabulary[batch.y[0] as number], "o");
    assert.equal(decode(1), "worl");
    assert.equal(ds.vocabulary[batch.y[1] as number], "d");
    // The last held-out example predicts the file's last character from the four before it.
    const last = ds.batch("eval", [ds.size.eval - 1]);
    assert.equal(ds.vocabulary[last.y[0] as number], "!");
  });

  it("a changed file gets a different id; unreadable, non-UTF-8 or too short files are refused", async () => {
    const ds = await loadTextDataset(file);
    const other = path.join(dir, "other.txt");
    await writeFile(other, text.replace("world", "wordl"), "utf8");
    assert.notEqual((await loadTextDataset(other)).id, ds.id);
    await assert.rejects(
      loadTextDataset(path.join(dir, "missing.txt")),
      isCode("DATA_TEXT_UNREADABLE"),
    );
    const latin1 = path.join(dir, "latin1.txt");
    await writeFile(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x61, 0x62]));
    await assert.rejects(loadTextDataset(latin1), isCode("DATA_TEXT_ENCODING"));
    const short = path.join(dir, "short.txt");
    await writeFile(short, "abcab", "utf8");
    await assert.rejects(
      loadTextDataset(short, { contextLength: 4 }),
      isCode("DATA_TEXT_TOO_SHORT"),
    );
    await assert.rejects(loadTextDataset(file, { contextLength: 0 }), isCode("DATA_BAD_OPTIONS"));
  });
});
