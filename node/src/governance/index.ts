/**
 * Governance proposals of protolearn: build the calls of each kind (parameter change, pause,
 * resume, halt, slash reversal, treasury transfer), derive the proposal id, check the calls as
 * the timelock would make them, read proposals back from their events, name their states.
 */
export * from "./buildProposal.js";
export * from "./describeProposal.js";
export * from "./governanceError.js";
export * from "./proposalRecords.js";
export * from "./proposalState.js";
export * from "./runParams.js";
