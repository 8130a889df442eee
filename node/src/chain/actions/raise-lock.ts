import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface RaiseLockParameters {
  /** Stake to add to the signer's lock in the run (wei, from its free bonded stake). */
  added: bigint;
  /** For logs, metrics and errors. @default "raiseLock run <id>" */
  label?: string;
}

export type RaiseLockReturnType = SentTransaction;
export type RaiseLockErrorType = ChainError;

/**
 * Raises the signer's lock in its run (`TrainingRun.raiseLock`): a stale lock (below a raised
 * minimum) takes seats again, a larger one draws more. The whole lock counts from the round in
 * `LockRaised.eligibleFrom` on. Validators cannot raise between a commit deadline and settlement.
 *
 * @example
 * await raiseLock(signer, { added: parseEther("50") });
 */
export function raiseLock(ctx: SignerContext, { added, label }: RaiseLockParameters): Promise<RaiseLockReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "raiseLock", [added], label ?? `raiseLock run ${ctx.runId}`);
}
