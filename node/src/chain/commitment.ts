import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

/** What a trainer commits to in a round and later reveals (RoundLib.commitment's inputs). */
export interface CommitmentFields {
  runId: number | bigint;
  round: number | bigint;
  /** The committing node: the hash binds it, so nobody can reveal someone else's commitment. */
  node: Address;
  /** IPFS CID of the encoded update. */
  cid: string;
  /** Content hash of the update's bytes (codec/content-hash.ts). */
  contentHash: Hex;
  /** Training samples the update claims. */
  samples: number | bigint;
  /** 32 random bytes, kept secret until the reveal. */
  salt: Hex;
}

/**
 * The commitment the run checks at reveal: keccak256(abi.encode(runId, round, node, cid,
 * contentHash, samples, salt)), exactly as contracts/run/RoundLib.sol computes it. The one
 * definition the trainer, the tests and the gas benchmark use.
 *
 * @example
 * const commitment = commitmentOf({ runId: 1, round: 3, node, cid, contentHash, samples: 3200, salt });
 * await commit(signer, { round: 3, commitment });
 */
export function commitmentOf(fields: CommitmentFields): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "uint256" },
        { type: "uint256" },
        { type: "address" },
        { type: "string" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "bytes32" },
      ],
      [
        BigInt(fields.runId),
        BigInt(fields.round),
        fields.node,
        fields.cid,
        fields.contentHash,
        BigInt(fields.samples),
        fields.salt,
      ],
    ),
  );
}

/** What a committee member commits to in a round's score phase and reveals in the vote-reveal phase. */
export interface VoteCommitmentFields {
  runId: number | bigint;
  round: number | bigint;
  /** The voting validator: the hash binds it, so nobody can replay another member's commitment. */
  validator: Address;
  /** One entry per committee seat it holds (ascending seat index): the number of scores of that seat. */
  seatLengths: readonly number[];
  /** Per held seat, the scores (ppm) of `assignedTo(seat)` in reveal order, concatenated. */
  scores: readonly number[];
  /** The model hash it attests (its aggregation of the round's accepted set). */
  modelHash: Hex;
  /** Held-out loss of that model, 1e9-scaled. */
  evalLoss: bigint;
  /** 32 random bytes, kept secret until the vote reveal. */
  salt: Hex;
}

/**
 * A validator's vote commitment: keccak256(abi.encode(runId, round, validator, uint16[]
 * seatLengths, uint32[] scores, bytes32 modelHash, uint64 evalLoss, bytes32 salt)), exactly as
 * contracts/run/RoundLib.sol computes it at `revealVote`.
 *
 * @example
 * const commitment = voteCommitmentOf({ runId: 1, round: 3, validator, seatLengths: [2], scores: [180_000, 1], modelHash, evalLoss, salt });
 * await commitVote(signer, { round: 3, commitment });
 */
export function voteCommitmentOf(fields: VoteCommitmentFields): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "uint256" },
        { type: "uint256" },
        { type: "address" },
        { type: "uint16[]" },
        { type: "uint32[]" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "bytes32" },
      ],
      [
        BigInt(fields.runId),
        BigInt(fields.round),
        fields.validator,
        [...fields.seatLengths],
        [...fields.scores],
        fields.modelHash,
        fields.evalLoss,
        fields.salt,
      ],
    ),
  );
}
