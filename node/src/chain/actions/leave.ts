import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface LeaveParameters {
  /** For logs, metrics and errors. @default "leave run <id>" */
  label?: string;
}

export type LeaveReturnType = SentTransaction;
export type LeaveErrorType = ChainError;

/**
 * Leaves the signer's run and unlocks the stake it holds (`TrainingRun.leave`); reverts
 * (TrainingRunLeaveWhileActive) while the signer takes part in an unfinalized round.
 *
 * @example
 * await leave(signer);
 * await requestUnstake(signer, { amount: parseEther("1000") });
 */
export function leave(ctx: SignerContext, { label }: LeaveParameters = {}): Promise<LeaveReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "leave", [], label ?? `leave run ${ctx.runId}`);
}
