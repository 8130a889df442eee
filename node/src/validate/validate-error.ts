import { ProtolearnError } from "../errors.js";

/**
 * Stable codes of the validator's own mistakes. A peer's bad update never raises one of these:
 * it becomes a verdict with a reason (`unreachable`, `malformed`, ...) and score 0.
 */
export type ValidateErrorCode =
  /** The caller passed arguments that cannot describe a round (bad reveal list, options out of range). */
  | "VALIDATE_BAD_INPUT"
  /** The model, dataset, parameters or Δ do not belong together. */
  | "VALIDATE_MODEL_MISMATCH"
  /** The caller's signal aborted validation. */
  | "VALIDATE_ABORTED";

/** Validation could not run; `fix` says what the operator or the calling code must change. */
export class ValidateError extends ProtolearnError {
  override name = "ValidateError";
  declare readonly code: ValidateErrorCode;

  constructor(
    message: string,
    options: { code: ValidateErrorCode; fix?: string; cause?: unknown },
  ) {
    super(message, options);
  }
}
