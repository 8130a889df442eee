import { ProtolearnError } from "../errors.js";

/**
 * A proposal that cannot be built, found or advanced: an unknown parameter name, a value out
 * of its type's range, a call the timelock could not execute, a proposal in the wrong state.
 */
export class GovernanceError extends ProtolearnError {
  override name = "GovernanceError";
}
