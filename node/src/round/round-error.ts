import { ProtolearnError } from "../errors.js";

/** Stable codes of every way the round engine can refuse its input. */
export type RoundErrorCode =
  | "ROUND_BAD_PARAMS"
  | "ROUND_MODEL_MISMATCH"
  | "ROUND_BAD_RESIDUAL"
  | "ROUND_BAD_MOMENTUM"
  | "ROUND_INVALID_UPDATE"
  | "ROUND_CONTENT_HASH_MISMATCH";

/** A round computation that cannot be carried out as asked; nothing was computed. */
export class RoundError extends ProtolearnError {
  override name = "RoundError";
  declare readonly code: RoundErrorCode;

  constructor(message: string, options: { code: RoundErrorCode; fix?: string; cause?: unknown }) {
    super(message, options);
  }
}
