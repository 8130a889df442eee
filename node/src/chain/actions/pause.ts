import type { ChainError } from "../chain-error.js";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";
import { sendWrite } from "./send-write.js";

export interface PauseParameters {
  /** For logs, metrics and errors. @default "pause run <id>" */
  label?: string;
}

export type PauseReturnType = SentTransaction;
export type PauseErrorType = ChainError;

/**
 * Pauses the signer's run (`TrainingRun.pause`), voiding the open round. Only the run's
 * guardian (and governance) may; resuming goes through a governance proposal.
 *
 * @example
 * await pause(guardian);
 */
export function pause(ctx: SignerContext, { label }: PauseParameters = {}): Promise<PauseReturnType> {
  return sendWrite(ctx, ctx.contracts.run, "pause", [], label ?? `pause run ${ctx.runId}`);
}
