import { encodePacked, isAddress, keccak256, type Address, type Hex } from "viem";

import type { Batch, Dataset } from "../data/dataset.js";
import { assignShard, shardBatchIndices } from "../data/shard.js";
import { bytes32Hex } from "./bytes32.js";
import { RANDOM_SHARD_TAG, VALIDATION_BATCH_TAG } from "./constants.js";
import { ValidateError } from "./validate-error.js";

const ZERO_CHALLENGE: Hex = `0x${"00".repeat(32)}`;

function assertMultipleShards(numShards: number): void {
  if (!Number.isInteger(numShards) || numShards < 2) {
    throw new ValidateError(
      `validation compares the assigned shard with another one, but the run has ${numShards} shard(s)`,
      { code: "VALIDATE_BAD_INPUT", fix: "run with at least 2 shards (the default is 8)" },
    );
  }
}

/**
 * The shard whose data a validator uses as the control for `node`'s update: never the node's
 * assigned shard `a`, and the same for every validator.
 *
 * `x = uint256(keccak256(abi.encodePacked(string tag, bytes32 s, address node))) mod (S − 1)`,
 * `random = (a + 1 + x) mod S`, so each of the other `S − 1` shards is equally likely; `s` is the
 * round seed, or {@link validationSeed}(seed, challenge) when a challenge (the round's
 * post-commit randomness) is given, so that a trainer does not know which shard it will be
 * checked on while it trains (S5).
 */
export function randomShard(
  seed: Hex | Uint8Array,
  node: Address,
  numShards: number,
  challenge?: Hex | Uint8Array,
): number {
  assertMultipleShards(numShards);
  const assigned = assignShard(seed, node, numShards);
  const source = challenge === undefined ? bytes32Hex(seed, "the round seed") : validationSeed(seed, challenge);
  const packed = encodePacked(["string", "bytes32", "address"], [RANDOM_SHARD_TAG, source, node.toLowerCase() as Address]);
  const x = Number(BigInt(keccak256(packed)) % BigInt(numShards - 1));
  return (assigned + 1 + x) % numShards;
}

/**
 * The seed of the validation batch stream:
 * `keccak256(abi.encodePacked(string tag, bytes32 seed, bytes32 challenge))`. It differs from
 * `seed`, so no validation batch is one of the trainer's training batches (those are drawn from
 * `seed ‖ node ‖ step`). The challenge defaults to zero (see docs/validation.md, "Predictable
 * batches").
 */
export function validationSeed(seed: Hex | Uint8Array, challenge?: Hex | Uint8Array): Hex {
  return keccak256(
    encodePacked(
      ["string", "bytes32", "bytes32"],
      [
        VALIDATION_BATCH_TAG,
        bytes32Hex(seed, "the round seed"),
        challenge === undefined ? ZERO_CHALLENGE : bytes32Hex(challenge, "the challenge"),
      ],
    ),
  );
}

/** One validation batch: where it comes from and its examples. */
export interface ValidationBatch {
  shard: number;
  /** Training-split example indices, in batch order. */
  indices: number[];
  batch: Batch;
}

/** Inputs of {@link validationBatches}. */
export interface ValidationBatchesParameters {
  dataset: Dataset;
  seed: Hex | Uint8Array;
  /** The trainer whose update is checked. */
  node: Address;
  batchSize: number;
  numShards: number;
  /** Optional post-commit randomness mixed into the batch stream; zero when omitted. */
  challenge?: Hex | Uint8Array;
}

/**
 * The two batches an update of `node` is scored on: step 0 of the validation stream on the
 * node's assigned shard, and step 1 of the same stream on {@link randomShard}. Pure integer
 * arithmetic over public values, so every validator draws the same examples.
 */
export function validationBatches(input: ValidationBatchesParameters): {
  assigned: ValidationBatch;
  random: ValidationBatch;
} {
  const { dataset, seed, node, batchSize, numShards, challenge } = input;
  if (!isAddress(node, { strict: false })) {
    throw new ValidateError(`node ${String(node)} is not an address`, {
      code: "VALIDATE_BAD_INPUT",
      fix: "pass the trainer's 0x-prefixed 20-byte address from its reveal",
    });
  }
  const streamSeed = validationSeed(seed, challenge);
  const draw = (shard: number, step: number): ValidationBatch => {
    const indices = shardBatchIndices({
      seed: streamSeed,
      node,
      step,
      batchSize,
      trainSize: dataset.size.train,
      shard,
      numShards,
    });
    return { shard, indices, batch: dataset.batch("train", indices) };
  };
  return {
    assigned: draw(assignShard(seed, node, numShards), 0),
    random: draw(randomShard(seed, node, numShards, challenge), 1),
  };
}
