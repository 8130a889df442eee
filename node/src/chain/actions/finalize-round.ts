import { decodeEventLog } from "viem";
import { trainingRunAbi } from "../abis.js";
import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

/** Settlement items one finalizeRound call settles unless told otherwise. */
export const DEFAULT_FINALIZE_BATCH = 128;

export interface FinalizeRoundParameters {
  /** The current round, after its vote-reveal deadline. */
  round: number | bigint;
  /** Settlement items (reveals, then committers) this call settles at most. @default DEFAULT_FINALIZE_BATCH (128) */
  maxItems?: number | bigint;
  /** For logs, metrics (its first word names the action) and errors. @default "finalizeRound round <round>" */
  label?: string;
}

export interface FinalizeRoundReturnType extends SentTransaction {
  /** Whether this call settled the round (ModelAgreed or RoundFailed in its logs): call again while false. */
  done: boolean;
  /** SettlementProgress of this call: items settled so far of the round's total (undefined if none was emitted). */
  progress: { processed: number; total: number } | undefined;
}
export type FinalizeRoundErrorType = ChainError;

/**
 * Settles up to `maxItems` items of a round after its vote-reveal deadline
 * (`TrainingRun.finalizeRound(round, maxItems)`); the call that settles the last item decides the
 * model, pays the validators and opens the next round. Anyone may; keepers do it. `done` is false
 * while items are left, and also when the call only armed the challenge (the randomness is not
 * readable yet: send again a block later).
 *
 * @example
 * let r; do r = await finalizeRound(signer, { round, maxItems: 128 }); while (!r.done);
 */
export async function finalizeRound(
  ctx: SignerContext,
  { round, maxItems, label }: FinalizeRoundParameters,
): Promise<FinalizeRoundReturnType> {
  const sent = await sendWrite(
    ctx,
    ctx.contracts.run,
    "finalizeRound",
    [BigInt(round), BigInt(maxItems ?? DEFAULT_FINALIZE_BATCH)],
    label ?? `finalizeRound round ${round}`,
  );
  return { ...sent, ...settlementOf(sent, ctx.contracts.run.address, BigInt(round)) };
}

/** What a finalizeRound receipt says about round `round`'s settlement. */
export function settlementOf(
  sent: Pick<SentTransaction, "receipt">,
  run: string,
  round: bigint,
): { done: boolean; progress: { processed: number; total: number } | undefined } {
  let done = false;
  let progress: { processed: number; total: number } | undefined;
  for (const log of sent.receipt.logs) {
    if (log.address.toLowerCase() !== run.toLowerCase()) continue;
    let decoded;
    try {
      decoded = decodeEventLog({ abi: trainingRunAbi, data: log.data, topics: log.topics });
    } catch {
      continue;
    }
    if (decoded.eventName === "ModelAgreed" || decoded.eventName === "RoundFailed") {
      if (decoded.args.round === round) done = true;
    } else if (decoded.eventName === "SettlementProgress" && decoded.args.round === round) {
      progress = { processed: Number(decoded.args.processed), total: Number(decoded.args.total) };
    }
  }
  return { done, progress };
}
