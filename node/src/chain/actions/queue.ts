import type { Address, Hex } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface QueueParameters {
  /** The proposal's calls, exactly as proposed. */
  targets: readonly Address[];
  values: readonly bigint[];
  calldatas: readonly Hex[];
  /** keccak256 of the proposal's description (governance `descriptionHash`). */
  descriptionHash: Hex;
  /** For logs, metrics and errors. @default "queue proposal" */
  label?: string;
}

export type QueueReturnType = SentTransaction;
export type QueueErrorType = ChainError;

/**
 * Puts a proposal that passed into the timelock (`RunGovernor.queue`); {@link execute} runs
 * it once the timelock delay has passed. Anyone may.
 *
 * @example
 * await queue(signer, { ...proposalArrays(draft.actions), descriptionHash: descriptionHash(draft.description) });
 */
export function queue(ctx: SignerContext, { targets, values, calldatas, descriptionHash, label }: QueueParameters): Promise<QueueReturnType> {
  return sendWrite(ctx, ctx.contracts.governor, "queue", [targets, values, calldatas, descriptionHash], label ?? "queue proposal");
}
