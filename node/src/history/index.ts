/**
 * The system's history from its events: one event-reading path (`scanRecords`), one reducer
 * (`recordEvents`) into {@link ChainRecords}, kept current by `ChainHistory`, and the views the
 * node, the CLI, the audit and the explorer read (`RoundHistory`, `ParamsHistory`).
 */
export * from "./chain-history.js";
export * from "./chain-records.js";
export * from "./constants.js";
export * from "./history-error.js";
export * from "./params-history.js";
export * from "./read-records.js";
export * from "./record-events.js";
export * from "./round-history.js";
export * from "./scan-records.js";
export * from "./round-votes.js";
