import type { Address } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface DelegateStakeParameters {
  /** Who votes with the signer's staked LEARN. @default the signer itself */
  delegatee?: Address;
  /** For logs, metrics and errors. @default "delegate stake votes to <delegatee>" */
  label?: string;
}

export type DelegateStakeReturnType = SentTransaction;
export type DelegateStakeErrorType = ChainError;

/**
 * Delegates the voting weight of the signer's stake (`StakeManager.delegate`, issue 10 G2).
 * The first stake of an account delegates its stake votes to itself; this chooses another
 * delegate (or returns them to the signer). Votes count from the block after delegating.
 *
 * @example
 * await delegateStake(signer, { delegatee: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" });
 */
export function delegateStake(
  ctx: SignerContext,
  { delegatee, label }: DelegateStakeParameters = {},
): Promise<DelegateStakeReturnType> {
  const to = delegatee ?? ctx.account.address;
  return sendWrite(ctx, ctx.contracts.stakeManager, "delegate", [to], label ?? `delegate stake votes to ${to}`);
}
