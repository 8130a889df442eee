import { parseEventLogs, type Address, type Hex } from "viem";
import { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface ProposeParameters {
  /** The calls the timelock makes if the proposal passes: targets, ETH values, calldata. */
  targets: readonly Address[];
  values: readonly bigint[];
  calldatas: readonly Hex[];
  /** Shown to voters; its keccak256 is part of the proposal id. */
  description: string;
  /** For logs, metrics and errors. @default 'propose "<description>"' */
  label?: string;
}

export type ProposeReturnType = SentTransaction & {
  /** The governor's id of the new proposal (its ProposalCreated event's). */
  proposalId: bigint;
};
export type ProposeErrorType = ChainError;

/**
 * Opens a governance proposal (`RunGovernor.propose`); the signer needs the proposal threshold
 * in delegated votes. governance/build-proposal.ts builds the calls.
 *
 * @example
 * const draft = runSwitchProposal({ kind: "pause", run: signer.contracts.run.address, runId: 1 });
 * const { proposalId } = await propose(signer, { ...proposalArrays(draft.actions), description: draft.description });
 */
export async function propose(
  ctx: SignerContext,
  { targets, values, calldatas, description, label }: ProposeParameters,
): Promise<ProposeReturnType> {
  const { governor } = ctx.contracts;
  const sent = await sendWrite(ctx, governor, "propose", [targets, values, calldatas, description], label ?? `propose "${description}"`);
  const [event] = parseEventLogs({ abi: governor.abi, eventName: "ProposalCreated", logs: sent.receipt.logs });
  if (event === undefined) {
    throw new ChainError(`the propose transaction ${sent.hash} emitted no ProposalCreated event`, {
      code: "CHAIN_UNEXPECTED_RECEIPT",
      fix: "check that the deployment record's RunGovernor address is a protolearn RunGovernor",
    });
  }
  return { ...sent, proposalId: event.args.proposalId };
}
