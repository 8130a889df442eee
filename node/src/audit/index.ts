/**
 * Auditing a run from public data alone: the chain's events rebuilt into records
 * (`readRecords`, `scanRecords`, `recordEvents`), one round's contributions joined
 * (`auditRound`), updates re-fetched by CID and re-hashed (`verifyReveal`), the model replayed and
 * updates re-scored (`ModelReplay`, `buildAuditReport`). `protolearn audit` and the explorer
 * are two faces of this module.
 */
export * from "./auditError.js";
export * from "./auditReport.js";
export * from "./auditStore.js";
export * from "./constants.js";
export * from "./formatAudit.js";
export * from "./modelReplay.js";
export * from "./readRecords.js";
export * from "./recordEvents.js";
export * from "./records.js";
export * from "./roundAudit.js";
export * from "./runModel.js";
export * from "./scanRecords.js";
export * from "./stableJson.js";
export * from "./verifyReveal.js";
