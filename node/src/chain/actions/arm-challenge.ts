import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface ArmChallengeParameters {
  /** The current round, after its commit deadline. */
  round: number | bigint;
  /** For logs, metrics (its first word names the action) and errors. @default "armChallenge round <round>" */
  label?: string;
}

export type ArmChallengeReturnType = SentTransaction;
export type ArmChallengeErrorType = ChainError;

/**
 * Arms the round's challenge (`TrainingRun.armChallenge`): records `challengeBlock =
 * block.number + 1` when nobody has since the commit deadline (or re-arms an expired one), and
 * stores the randomness once that block's hash is readable. Anyone may; a validator that needs
 * the committee calls it when `currentRound().challengeBlock` is 0.
 *
 * @example
 * if (view.challengeBlock === 0n) await armChallenge(signer, { round: view.round });
 */
export function armChallenge(ctx: SignerContext, { round, label }: ArmChallengeParameters): Promise<ArmChallengeReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "armChallenge", [BigInt(round)], label ?? `armChallenge round ${round}`);
}
