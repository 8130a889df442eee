import { hexToBytes, isAddress, isHex, keccak256, type Address, type Hex } from "viem";

import { ProtolearnError } from "../errors.js";
import { createRng } from "../random/index.js";
import type { Batch, Dataset } from "./dataset.js";

/**
 * Shards the training split is cut into when the run does not say otherwise.
 * @default 8
 */
export const DEFAULT_NUM_SHARDS = 8;

function seedBytes(seed: Hex | Uint8Array): Uint8Array {
  const bytes = typeof seed === "string" && isHex(seed, { strict: true }) ? hexToBytes(seed) : seed;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new ProtolearnError(`round seed ${String(seed)} is not 32 bytes`, {
      code: "DATA_BAD_SEED",
      fix: "pass the round's bytes32 seed as read from the TrainingRun contract",
    });
  }
  return bytes;
}

function addressBytes(node: Address): Uint8Array {
  if (!isAddress(node, { strict: false })) {
    throw new ProtolearnError(`node address ${String(node)} is not a 20-byte hex address`, {
      code: "DATA_BAD_ADDRESS",
      fix: "pass the trainer's 0x-prefixed 20-byte address",
    });
  }
  return hexToBytes(node);
}

function assertShardCount(numShards: number): void {
  if (!Number.isInteger(numShards) || numShards < 1) {
    throw new ProtolearnError(`shard count ${numShards} is not a positive integer`, {
      code: "DATA_BAD_SHARDS",
      fix: "use the run's shard count (a positive integer)",
    });
  }
}

/**
 * The shard a node trains on in a round:
 * `uint256(keccak256(abi.encodePacked(bytes32 seed, address node))) mod numShards`.
 * The same expression can be evaluated in Solidity, and address case does not matter.
 */
export function assignShard(seed: Hex | Uint8Array, node: Address, numShards: number): number {
  assertShardCount(numShards);
  const packed = new Uint8Array(52);
  packed.set(seedBytes(seed), 0);
  packed.set(addressBytes(node), 32);
  return Number(BigInt(keccak256(packed)) % BigInt(numShards));
}

/** Example indices `[start, end)` of `shard` among `trainSize` training examples (contiguous, sizes differ by at most one). */
export function shardRange(
  trainSize: number,
  shard: number,
  numShards: number,
): { start: number; end: number } {
  assertShardCount(numShards);
  if (!Number.isInteger(shard) || shard < 0 || shard >= numShards) {
    throw new ProtolearnError(`shard ${shard} is outside [0, ${numShards})`, {
      code: "DATA_BAD_SHARDS",
      fix: "derive the shard with assignShard()",
    });
  }
  return {
    start: Math.floor((shard * trainSize) / numShards),
    end: Math.floor(((shard + 1) * trainSize) / numShards),
  };
}

/** Where a batch comes from: the round, the node whose stream it is, the inner step and the shard. */
export interface BatchSource {
  seed: Hex | Uint8Array;
  node: Address;
  step: number;
  batchSize: number;
  trainSize: number;
  shard: number;
  numShards: number;
}

/**
 * Training indices of one inner step: `batchSize` distinct examples of the shard, drawn by a
 * partial Fisher–Yates shuffle from `createRng(seed ‖ node ‖ uint64be(step))`. Pure integer
 * arithmetic, so a validator recomputes any node's batch exactly — including a batch of a shard
 * other than the node's own (pass that `shard`).
 */
export function shardBatchIndices(source: BatchSource): number[] {
  const { step, batchSize } = source;
  const { start, end } = shardRange(source.trainSize, source.shard, source.numShards);
  const shardSize = end - start;
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new ProtolearnError(`inner step ${step} is not a non-negative integer`, {
      code: "DATA_BAD_STEP",
      fix: "count inner steps from 0",
    });
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > shardSize) {
    throw new ProtolearnError(
      `batch size ${batchSize} does not fit a shard of ${shardSize} examples`,
      {
        code: "DATA_BAD_BATCH",
        fix: `use a batch size between 1 and ${shardSize}, or fewer shards`,
      },
    );
  }
  const key = new Uint8Array(60);
  key.set(seedBytes(source.seed), 0);
  key.set(addressBytes(source.node), 32);
  new DataView(key.buffer).setBigUint64(52, BigInt(step), false);
  const rng = createRng(key);
  // Sparse Fisher–Yates: only the swapped positions are stored, so the cost is O(batchSize).
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < batchSize; i++) {
    const j = i + rng.nextInt(shardSize - i);
    const atJ = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(start + atJ);
  }
  return out;
}

/**
 * The batch `node` trains on at inner `step` of the round with `seed`, from its assigned shard.
 *
 * @example
 * const batch = shardBatch(mnist, roundSeed, account.address, 0, 64);
 */
export function shardBatch(
  dataset: Dataset,
  seed: Hex | Uint8Array,
  node: Address,
  step: number,
  batchSize: number,
  numShards: number = DEFAULT_NUM_SHARDS,
): Batch {
  const shard = assignShard(seed, node, numShards);
  const indices = shardBatchIndices({
    seed,
    node,
    step,
    batchSize,
    trainSize: dataset.size.train,
    shard,
    numShards,
  });
  return dataset.batch("train", indices);
}
