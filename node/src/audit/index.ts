/**
 * Auditing a run from public data alone: the chain's events rebuilt into records
 * (`readRecords`, `scanRecords`, `recordEvents`), one round's contributions joined
 * (`auditRound`), updates re-fetched by CID and re-hashed (`verifyReveal`), the model replayed and
 * updates re-scored (`ModelReplay`, `buildAuditReport`). `protolearn audit` and the explorer
 * are two faces of this module.
 */
export * from "./audit-error.js";
export * from "./audit-report.js";
export * from "./audit-store.js";
export * from "./constants.js";
export * from "./format-audit.js";
export * from "./model-replay.js";
export * from "./round-audit.js";
export * from "./run-model.js";
export * from "./verify-reveal.js";
