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
