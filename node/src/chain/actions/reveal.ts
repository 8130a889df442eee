import type { Hex } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface RevealParameters {
  /** The round whose reveal phase is open. */
  round: number | bigint;
  /** IPFS CID of the encoded update. */
  cid: string;
  /** Content hash of the update's bytes. */
  contentHash: Hex;
  /** Training samples the update claims. */
  samples: number | bigint;
  /** The salt of the commitment. */
  salt: Hex;
  /** For logs, metrics (its first word names the action) and errors. @default "reveal round <round>" */
  label?: string;
}

export type RevealReturnType = SentTransaction;
export type RevealErrorType = ChainError;

/**
 * Discloses what the signer committed to (`TrainingRun.reveal`); the run recomputes the
 * commitment from these fields and rejects a mismatch (TrainingRunRevealMismatch).
 *
 * @example
 * await reveal(signer, { round, cid, contentHash, samples, salt });
 */
export function reveal(ctx: SignerContext, { round, cid, contentHash, samples, salt, label }: RevealParameters): Promise<RevealReturnType> {
  return sendWrite(
    ctx,
    ctx.contracts.run,
    "reveal",
    [BigInt(round), cid, contentHash, BigInt(samples), salt],
    label ?? `reveal round ${round}`,
  );
}
