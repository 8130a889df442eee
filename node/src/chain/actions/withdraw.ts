import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface WithdrawParameters {
  /** For logs, metrics and errors. @default "withdraw" */
  label?: string;
}

export type WithdrawReturnType = SentTransaction;
export type WithdrawErrorType = ChainError;

/**
 * Pays every unbonding request of the signer whose release time has passed out to its wallet
 * (`StakeManager.withdraw`).
 *
 * @example
 * if ((await signer.contracts.stakeManager.read.withdrawableOf([signer.account.address])) > 0n) {
 *   await withdraw(signer);
 * }
 */
export function withdraw(ctx: SignerContext, { label }: WithdrawParameters = {}): Promise<WithdrawReturnType> {
  return sendWrite(ctx, ctx.contracts.stakeManager, "withdraw", [], label ?? "withdraw");
}
