import type { Address } from "viem";
import type { ChainError } from "../chain-error.js";
import { formatLearn } from "../learn-amount.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface ApproveParameters {
  /** Who may move the signer's LEARN (the StakeManager, before {@link stake}). */
  spender: Address;
  /** The new allowance in wei (replaces the old one). */
  amount: bigint;
  /** For logs, metrics and errors. @default "approve <amount> LEARN for <spender>" */
  label?: string;
}

export type ApproveReturnType = SentTransaction;
export type ApproveErrorType = ChainError;

/**
 * Sets the allowance `spender` has over the signer's LEARN (`LearnToken.approve`).
 *
 * @example
 * await approve(signer, { spender: signer.contracts.stakeManager.address, amount: parseEther("1000") });
 */
export function approve(ctx: SignerContext, { spender, amount, label }: ApproveParameters): Promise<ApproveReturnType> {
  return sendWrite(ctx, ctx.contracts.token, "approve", [spender, amount], label ?? `approve ${formatLearn(amount)} for ${spender}`);
}
