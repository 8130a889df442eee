import { GovernanceError } from "./governance-error.js";

/**
 * The names of OpenZeppelin Governor's `ProposalState` enum and `GovernorCountingSimple`'s vote
 * types, in on-chain order, so the CLI can print and parse them.
 */

/** `IGovernor.ProposalState`, index = on-chain value. */
export const PROPOSAL_STATES = [
  "Pending",
  "Active",
  "Canceled",
  "Defeated",
  "Succeeded",
  "Queued",
  "Expired",
  "Executed",
] as const;

export type ProposalStateName = (typeof PROPOSAL_STATES)[number];

/** The name of an on-chain proposal state. */
export function proposalStateName(state: number): ProposalStateName {
  const name = PROPOSAL_STATES[state];
  if (name === undefined) {
    throw new GovernanceError(`the governor returned unknown proposal state ${state}`, {
      code: "GOVERNANCE_UNKNOWN_STATE",
      fix: "check that --network points at a protolearn RunGovernor deployment",
    });
  }
  return name;
}

/** `GovernorCountingSimple.VoteType`: the `support` argument of castVote. */
export const VOTE_SUPPORT = { against: 0, for: 1, abstain: 2 } as const;

export type VoteChoice = keyof typeof VOTE_SUPPORT;

/** Parses `for` / `against` / `abstain` (any case). */
export function parseVoteChoice(text: string): VoteChoice {
  const choice = text.toLowerCase();
  if (choice === "for" || choice === "against" || choice === "abstain") return choice;
  throw new GovernanceError(`"${text}" is not a vote`, {
    code: "GOVERNANCE_BAD_VOTE",
    fix: "vote `for`, `against` or `abstain`",
  });
}
