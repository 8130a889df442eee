import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import { roleValue, type NodeRole } from "../contract-enums.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface JoinParameters {
  /** The one role the signer holds in the run. */
  role: NodeRole;
  /** For logs, metrics and errors. @default "join run <id> as <role>" */
  label?: string;
}

export type JoinReturnType = SentTransaction;
export type JoinErrorType = ChainError;

/**
 * Joins the signer's run as trainer or validator (`TrainingRun.join`), locking the role's
 * minimum stake (the run's `minTrainerStake` / `minValidatorStake`) of its free bonded stake.
 *
 * @example
 * await join(signer, { role: "trainer" });
 */
export function join(ctx: SignerContext, { role, label }: JoinParameters): Promise<JoinReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "join", [roleValue(role)], label ?? `join run ${ctx.runId} as ${role}`);
}
