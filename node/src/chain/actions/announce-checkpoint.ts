import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface AnnounceCheckpointParameters {
  /** The finalized round whose model (M_round) the checkpoint holds. */
  round: number | bigint;
  /** IPFS CID of the encoded checkpoint (run/checkpoint.ts). */
  cid: string;
  /** For logs, metrics (its first word names the action) and errors. @default "announceCheckpoint round <round>" */
  label?: string;
}

export type AnnounceCheckpointReturnType = SentTransaction;
export type AnnounceCheckpointErrorType = ChainError;

/**
 * Announces a model checkpoint on IPFS (`TrainingRun.announceCheckpoint`), so late joiners
 * start from it instead of replaying every round.
 *
 * @example
 * const cid = await store.put(encodeCheckpoint(model.spec, params, momentum));
 * await announceCheckpoint(signer, { round, cid });
 */
export function announceCheckpoint(
  ctx: SignerContext,
  { round, cid, label }: AnnounceCheckpointParameters,
): Promise<AnnounceCheckpointReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "announceCheckpoint", [BigInt(round), cid], label ?? `announceCheckpoint round ${round}`);
}
