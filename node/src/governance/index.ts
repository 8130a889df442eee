/**
 * Governance proposals of protolearn: build the calls of each kind (parameter change, pause,
 * resume, halt, slash reversal, treasury transfer), derive the proposal id, check the calls as
 * the timelock would make them, read proposals back from their events, name their states.
 */
export * from "./build-proposal.js";
export * from "./describe-proposal.js";
export * from "./governance-error.js";
export * from "./proposal-records.js";
export * from "./proposal-state.js";
export * from "./run-params.js";
export * from "./proposal-threshold.js";
