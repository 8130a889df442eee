import type { Address } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface DelegateParameters {
  /** Who votes with the signer's LEARN. @default the signer itself */
  delegatee?: Address;
  /** For logs, metrics and errors. @default "delegate votes to <delegatee>" */
  label?: string;
}

export type DelegateReturnType = SentTransaction;
export type DelegateErrorType = ChainError;

/**
 * Delegates the voting weight of the signer's LEARN (`LearnToken.delegate`). Tokens vote only
 * once delegated, and only from the block after delegating.
 *
 * @example
 * await delegate(signer); // vote with your own tokens
 * await delegate(signer, { delegatee: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" });
 */
export function delegate(ctx: SignerContext, { delegatee, label }: DelegateParameters = {}): Promise<DelegateReturnType> {
  const to = delegatee ?? ctx.account.address;
  return sendWrite(ctx, ctx.contracts.token, "delegate", [to], label ?? `delegate votes to ${to}`);
}
