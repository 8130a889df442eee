import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import { roleValue, type NodeRole } from "../contract-enums.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface JoinParameters {
  /** The one role the signer holds in the run. */
  role: NodeRole;
  /**
   * Stake to lock (wei), at least the role's minimum (`minTrainerStake` / `minValidatorStake`):
   * a trainer's seat chance and a validator's committee weight grow with it.
   * @default the role's current minimum, read from `params()`
   */
  amount?: bigint;
  /** For logs, metrics and errors. @default "join run <id> as <role>" */
  label?: string;
}

export type JoinReturnType = SentTransaction;
export type JoinErrorType = ChainError;

/**
 * Joins the signer's run as trainer or validator (`TrainingRun.join(role, amount)`), locking
 * `amount` of its free bonded stake. The lock counts in draws from `Joined.eligibleFrom` on (a
 * lock made after a draw's randomness was fixed waits a round). A validator joining a full set
 * (64) evicts the smallest lock if `amount` is larger.
 *
 * @example
 * await join(signer, { role: "trainer", amount: params.minTrainerStake });
 */
export async function join(ctx: SignerContext, { role, amount, label }: JoinParameters): Promise<JoinReturnType> {
  const lock = amount ?? (await roleMinimum(ctx, role));
  return sendWrite(ctx, ctx.contracts.run, "join", [roleValue(role), lock], label ?? `join run ${ctx.runId} as ${role}`);
}

/** The smallest lock `role` may join with now (`minTrainerStake` / `minValidatorStake`). */
export async function roleMinimum(ctx: Pick<SignerContext, "contracts">, role: NodeRole): Promise<bigint> {
  const params = await ctx.contracts.run.read.params();
  return role === "trainer" ? params.minTrainerStake : params.minValidatorStake;
}
