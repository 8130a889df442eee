/**
 * Every state-changing call the node, the CLI, the devnet and the scripts make, one action per
 * file (viem's layout): each exports its `XParameters`, `XReturnType`, `XErrorType` and the
 * function, which takes a connected `SignerContext` and sends through its transaction sender.
 */
export * from "./announce-checkpoint.js";
export * from "./approve.js";
export * from "./arm-challenge.js";
export * from "./cast-vote.js";
export * from "./claim.js";
export * from "./commit.js";
export * from "./commit-vote.js";
export * from "./delegate.js";
export * from "./delegate-stake.js";
export * from "./execute.js";
export * from "./finalize-round.js";
export * from "./join.js";
export * from "./leave.js";
export * from "./pause.js";
export * from "./propose.js";
export * from "./queue.js";
export * from "./raise-lock.js";
export * from "./request-unstake.js";
export * from "./reveal.js";
export * from "./reveal-vote.js";
export * from "./stake.js";
export * from "./transfer.js";
export * from "./withdraw.js";
