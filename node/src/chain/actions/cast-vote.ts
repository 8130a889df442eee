import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import { VoteType, type VoteTypeName } from "../contract-enums.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface CastVoteParameters {
  proposalId: bigint;
  /** `GovernorCountingSimple.VoteType`. */
  support: VoteTypeName;
  /** Recorded on chain with the vote (`castVoteWithReason`). */
  reason?: string;
  /** For logs, metrics and errors. @default "vote <support> on proposal <id>" */
  label?: string;
}

export type CastVoteReturnType = SentTransaction;
export type CastVoteErrorType = ChainError;

/**
 * Casts the votes delegated to the signer at the proposal's snapshot (`RunGovernor.castVote`,
 * or `castVoteWithReason` when a reason is given). A vote cannot be changed.
 *
 * @example
 * await castVote(signer, { proposalId, support: "For", reason: "longer inner loop saves bandwidth" });
 */
export function castVote(
  ctx: SignerContext,
  { proposalId, support, reason, label }: CastVoteParameters,
): Promise<CastVoteReturnType> {
  const { governor } = ctx.contracts;
  const text = label ?? `vote ${support} on proposal ${proposalId}`;
  return reason === undefined
    ? sendWrite(ctx, governor, "castVote", [proposalId, VoteType[support]], text)
    : sendWrite(ctx, governor, "castVoteWithReason", [proposalId, VoteType[support], reason], text);
}
