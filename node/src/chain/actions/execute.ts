import type { Address, Hex } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface ExecuteParameters {
  /** The proposal's calls, exactly as proposed. */
  targets: readonly Address[];
  values: readonly bigint[];
  calldatas: readonly Hex[];
  /** keccak256 of the proposal's description (governance `descriptionHash`). */
  descriptionHash: Hex;
  /** For logs, metrics and errors. @default "execute proposal" */
  label?: string;
}

export type ExecuteReturnType = SentTransaction;
export type ExecuteErrorType = ChainError;

/**
 * Runs a queued proposal's calls through the timelock once its delay has passed
 * (`RunGovernor.execute`). Anyone may.
 *
 * @example
 * await execute(signer, { ...proposalArrays(draft.actions), descriptionHash: descriptionHash(draft.description) });
 */
export function execute(
  ctx: SignerContext,
  { targets, values, calldatas, descriptionHash, label }: ExecuteParameters,
): Promise<ExecuteReturnType> {
  return sendWrite(ctx, ctx.contracts.governor, "execute", [targets, values, calldatas, descriptionHash], label ?? "execute proposal");
}
