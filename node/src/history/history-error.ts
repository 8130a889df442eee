import { ProtolearnError } from "../errors.js";

/**
 * The chain's history could not be rebuilt: an event that does not have the shape its ABI
 * promises, or a run whose events claim another run's id.
 */
export class HistoryError extends ProtolearnError {
  override name = "HistoryError";
}
