import { ProtolearnError } from "../errors.js";

/**
 * A failure of the audit itself (an event of the wrong shape, an unreadable cache, a filter
 * that matches nothing) or, with `AUDIT_FINDINGS`, an audit that ran and found claims the chain
 * makes that it could not confirm.
 */
export class AuditError extends ProtolearnError {
  override name = "AuditError";
}
