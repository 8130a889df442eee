import { parseEventLogs } from "viem";
import { ChainError } from "../chain-error.js";
import { formatLearn } from "../learn-amount.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface RequestUnstakeParameters {
  /** Free (unlocked) bonded LEARN to unbond, in wei. */
  amount: bigint;
  /** For logs, metrics and errors. @default "unstake <amount> LEARN" */
  label?: string;
}

export type RequestUnstakeReturnType = SentTransaction & {
  /** Id of the unbonding request (the UnstakeRequested event's). */
  requestId: bigint;
  /** Chain time (unix seconds) from which {@link withdraw} pays it out. */
  releaseAt: bigint;
};
export type RequestUnstakeErrorType = ChainError;

/**
 * Moves `amount` of the signer's free bonded stake into the unbonding queue
 * (`StakeManager.requestUnstake`); it can be withdrawn once the unbonding period has passed.
 *
 * @example
 * const { requestId, releaseAt } = await requestUnstake(signer, { amount: parseEther("250") });
 * // after releaseAt:
 * await withdraw(signer);
 */
export async function requestUnstake(
  ctx: SignerContext,
  { amount, label }: RequestUnstakeParameters,
): Promise<RequestUnstakeReturnType> {
  const { stakeManager } = ctx.contracts;
  const sent = await sendWrite(ctx, stakeManager, "requestUnstake", [amount], label ?? `unstake ${formatLearn(amount)}`);
  const [event] = parseEventLogs({ abi: stakeManager.abi, eventName: "UnstakeRequested", logs: sent.receipt.logs });
  if (event === undefined) {
    throw new ChainError(`the unstake transaction ${sent.hash} emitted no UnstakeRequested event`, {
      code: "CHAIN_UNEXPECTED_RECEIPT",
      fix: "check that the deployment record's StakeManager address is a protolearn StakeManager",
    });
  }
  return { ...sent, requestId: event.args.requestId, releaseAt: BigInt(event.args.releaseAt) };
}
