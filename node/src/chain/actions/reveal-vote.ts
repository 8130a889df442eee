import type { Hex } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface RevealVoteParameters {
  /** The round whose vote-reveal phase is open. */
  round: number | bigint;
  /** One entry per committee seat the signer holds (ascending seat index): how many scores belong to it. */
  seatLengths: readonly number[];
  /** Per held seat, the scores (ppm) of the updates assigned to it (`assignedTo(seat)`, reveal order), concatenated. */
  scores: readonly number[];
  /** Hash of the model the validator's aggregation gives. */
  modelHash: Hex;
  /** Held-out loss of that model, 1e9-scaled. */
  evalLoss: bigint;
  /** The salt of the vote commitment. */
  salt: Hex;
  /** For logs, metrics (its first word names the action) and errors. @default "revealVote round <round>" */
  label?: string;
}

export type RevealVoteReturnType = SentTransaction;
export type RevealVoteErrorType = ChainError;

/**
 * Opens a committed vote (`TrainingRun.revealVote`): exactly the values the commitment hashed
 * (TrainingRunRevealMismatch otherwise), in the shape the committee gives
 * (TrainingRunVoteShapeMismatch).
 *
 * @example
 * await revealVote(signer, { round, seatLengths: [2, 1], scores: [180_000, 1, 95_000], modelHash, evalLoss, salt });
 */
export function revealVote(
  ctx: SignerContext,
  { round, seatLengths, scores, modelHash, evalLoss, salt, label }: RevealVoteParameters,
): Promise<RevealVoteReturnType> {
  return sendWrite(
    ctx,
    ctx.contracts.run,
    "revealVote",
    [BigInt(round), seatLengths, scores, modelHash, evalLoss, salt],
    label ?? `revealVote round ${round}`,
  );
}
