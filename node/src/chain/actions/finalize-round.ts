import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface FinalizeRoundParameters {
  /** The current round, after its score deadline. */
  round: number | bigint;
  /** For logs, metrics (its first word names the action) and errors. @default "finalize round <round>" */
  label?: string;
}

export type FinalizeRoundReturnType = SentTransaction;
export type FinalizeRoundErrorType = ChainError;

/**
 * Settles a round once its score phase has closed (`TrainingRun.finalizeRound`: model
 * agreement, slashes, rewards) and opens the next one. Anyone may; keepers do it.
 *
 * @example
 * const { round } = await signer.contracts.run.read.currentRound();
 * await finalizeRound(signer, { round });
 */
export function finalizeRound(ctx: SignerContext, { round, label }: FinalizeRoundParameters): Promise<FinalizeRoundReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "finalizeRound", [BigInt(round)], label ?? `finalize round ${round}`);
}
