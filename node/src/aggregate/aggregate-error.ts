import { ProtolearnError } from "../errors.js";

/** Stable codes of every way aggregation can refuse its input. */
export type AggregateErrorCode =
  | "AGGREGATE_NO_UPDATES"
  | "AGGREGATE_BAD_ADDRESS"
  | "AGGREGATE_DUPLICATE_NODE"
  | "AGGREGATE_LENGTH_MISMATCH"
  | "AGGREGATE_NON_FINITE"
  | "AGGREGATE_BAD_OPTIONS";

/** Aggregation input that no honest node would produce; nothing was computed. */
export class AggregateError extends ProtolearnError {
  override name = "AggregateError";
  declare readonly code: AggregateErrorCode;

  constructor(
    message: string,
    options: { code: AggregateErrorCode; fix?: string; cause?: unknown },
  ) {
    super(message, options);
  }
}
