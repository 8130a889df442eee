import type { ChainError } from "../chain-error.js";
import { formatLearn } from "../learn-amount.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface StakeParameters {
  /** LEARN to bond, in wei. */
  amount: bigint;
  /** For logs, metrics and errors. @default "stake <amount> LEARN" */
  label?: string;
}

export type StakeReturnType = SentTransaction;
export type StakeErrorType = ChainError;

/**
 * Bonds `amount` of the signer's LEARN in the StakeManager (`StakeManager.stake`). The token
 * allowance must cover it: {@link approve} the StakeManager first.
 *
 * @example
 * const amount = parseEther("1000");
 * await approve(signer, { spender: signer.contracts.stakeManager.address, amount });
 * const { hash } = await stake(signer, { amount });
 */
export function stake(ctx: SignerContext, { amount, label }: StakeParameters): Promise<StakeReturnType> {
  return sendWrite(ctx, ctx.contracts.stakeManager, "stake", [amount], label ?? `stake ${formatLearn(amount)}`);
}
