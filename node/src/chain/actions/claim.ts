import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface ClaimParameters {
  /** For logs, metrics and errors. @default "claim rewards of run <id>" */
  label?: string;
}

export type ClaimReturnType = SentTransaction;
export type ClaimErrorType = ChainError;

/**
 * Pays the rewards the signer's run has accrued to it (`TrainingRun.claim`).
 *
 * @example
 * const { rewards } = await signer.contracts.run.read.memberOf([signer.account.address]);
 * if (rewards > 0n) await claim(signer);
 */
export function claim(ctx: SignerContext, { label }: ClaimParameters = {}): Promise<ClaimReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "claim", [], label ?? `claim rewards of run ${ctx.runId}`);
}
