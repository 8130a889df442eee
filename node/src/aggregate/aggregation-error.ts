import { ProtolearnError } from "../errors.js";

/** Stable codes of every way aggregation can refuse its input. */
export type AggregationErrorCode =
  | "AGGREGATE_NO_UPDATES"
  | "AGGREGATE_BAD_ADDRESS"
  | "AGGREGATE_DUPLICATE_NODE"
  | "AGGREGATE_LENGTH_MISMATCH"
  | "AGGREGATE_NON_FINITE"
  | "AGGREGATE_BAD_OPTIONS";

/** Aggregation input that no honest node would produce; nothing was computed. */
export class AggregationError extends ProtolearnError {
  override name = "AggregationError";
  declare readonly code: AggregationErrorCode;

  constructor(
    message: string,
    options: { code: AggregationErrorCode; fix?: string; cause?: unknown },
  ) {
    super(message, options);
  }
}
