import type { Hex } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface SubmitScoresParameters {
  /** The round whose score phase is open. */
  round: number | bigint;
  /** One score in ppm per revealed update, in reveal order. */
  scores: readonly number[];
  /** Hash of the model the validator's aggregation of the accepted updates gives. */
  modelHash: Hex;
  /** Held-out loss of that model, 1e9-scaled. */
  evalLoss: bigint;
  /** For logs, metrics (its first word names the action) and errors. @default "submitScores round <round>" */
  label?: string;
}

export type SubmitScoresReturnType = SentTransaction;
export type SubmitScoresErrorType = ChainError;

/**
 * A validator's vote on a round (`TrainingRun.submitScores`): a score per revealed update,
 * the model hash it attests and that model's held-out loss.
 *
 * @example
 * await submitScores(signer, { round, scores: [1_000_000, 0], modelHash, evalLoss: 412_000_000n });
 */
export function submitScores(
  ctx: SignerContext,
  { round, scores, modelHash, evalLoss, label }: SubmitScoresParameters,
): Promise<SubmitScoresReturnType> {
  return sendWrite(
    ctx,
    ctx.contracts.run,
    "submitScores",
    [BigInt(round), scores, modelHash, evalLoss],
    label ?? `submitScores round ${round}`,
  );
}
