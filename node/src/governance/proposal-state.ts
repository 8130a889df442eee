import { PROPOSAL_STATES, type ProposalStateName, type VoteTypeName } from "../chain/contract-enums.js";
import { GovernanceError } from "./governance-error.js";

/**
 * OpenZeppelin Governor's proposal states and vote types as the CLI prints and parses them;
 * the enums themselves are defined once, in chain/contract-enums.ts.
 */

export { PROPOSAL_STATES, type ProposalStateName };

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

/** The CLI's vote choices, and the `GovernorCountingSimple.VoteType` each one casts. */
export const VOTE_SUPPORT = {
  against: "Against",
  for: "For",
  abstain: "Abstain",
} as const satisfies Record<string, VoteTypeName>;

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
