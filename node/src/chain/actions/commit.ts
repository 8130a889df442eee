import type { Hex } from "viem";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface CommitParameters {
  /** The round whose commit phase is open. */
  round: number | bigint;
  /** {@link commitmentOf} the update the signer will reveal. */
  commitment: Hex;
  /** For logs, metrics (its first word names the action) and errors. @default "commit round <round>" */
  label?: string;
}

export type CommitReturnType = SentTransaction;
export type CommitErrorType = ChainError;

/**
 * Commits a trainer's update to the round without disclosing it (`TrainingRun.commit`): only
 * the hash goes on chain; {@link reveal} discloses the fields in the reveal phase.
 *
 * @example
 * const commitment = commitmentOf({ runId: signer.runId, round, node: signer.account.address, cid, contentHash, samples, salt });
 * await commit(signer, { round, commitment });
 */
export function commit(ctx: SignerContext, { round, commitment, label }: CommitParameters): Promise<CommitReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "commit", [BigInt(round), commitment], label ?? `commit round ${round}`);
}
