import type { Address } from "viem";
import type { ChainError } from "../chain-error.js";
import { formatLearn } from "../learn-amount.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface TransferParameters {
  /** The recipient. */
  to: Address;
  /** LEARN to send, in wei. */
  amount: bigint;
  /** For logs, metrics and errors. @default "transfer <amount> LEARN to <to>" */
  label?: string;
}

export type TransferReturnType = SentTransaction;
export type TransferErrorType = ChainError;

/**
 * Sends `amount` of the signer's LEARN to `to` (`LearnToken.transfer`), e.g. funding node
 * accounts on a devnet.
 *
 * @example
 * await transfer(deployer, { to: node.account.address, amount: parseEther("250000") });
 */
export function transfer(ctx: SignerContext, { to, amount, label }: TransferParameters): Promise<TransferReturnType> {
  return sendWrite(ctx, ctx.contracts.token, "transfer", [to, amount], label ?? `transfer ${formatLearn(amount)} to ${to}`);
}
