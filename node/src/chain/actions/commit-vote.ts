import type { Hex } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface CommitVoteParameters {
  /** The round whose score (vote-commit) phase is open. */
  round: number | bigint;
  /** {@link voteCommitmentOf} the vote the signer will reveal. */
  commitment: Hex;
  /** For logs, metrics (its first word names the action) and errors. @default "commitVote round <round>" */
  label?: string;
}

export type CommitVoteReturnType = SentTransaction;
export type CommitVoteErrorType = ChainError;

/**
 * A committee member's blind vote (`TrainingRun.commitVote`): the hash of its scores, model
 * hash, eval loss and salt. Persist the opening before sending: a committed vote that is not
 * revealed is slashed (VoteNotRevealed). Reverts TrainingRunRandomnessNotReady before the
 * round's randomness is fixed.
 *
 * @example
 * await commitVote(signer, { round, commitment: voteCommitmentOf({ runId, round, validator, ...vote }) });
 */
export function commitVote(ctx: SignerContext, { round, commitment, label }: CommitVoteParameters): Promise<CommitVoteReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "commitVote", [BigInt(round), commitment], label ?? `commitVote round ${round}`);
}
