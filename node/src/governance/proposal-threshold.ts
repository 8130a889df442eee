import type { Address } from "viem";
import type { ChainContext } from "../chain/client.js";
import { formatLearn } from "../chain/learn-amount.js";
import { GovernanceError } from "./governance-error.js";

/** What the governor counts for a proposer: its votes at the last mined block, and the threshold. */
export interface ProposerVotes {
  votes: bigint;
  threshold: bigint;
  /** The block the votes are read at (the governor's clock − 1, as `propose` itself does). */
  timepoint: bigint;
}

/**
 * Checks, before anything is sent, that `proposer` holds the governor's proposal threshold in
 * votes, exactly as `Governor.propose` will (`getVotes(proposer, clock() - 1)`), so a proposal
 * that would revert is refused with the two numbers instead of a revert.
 *
 * @example
 * await checkProposalThreshold(ctx, ctx.account.address); // throws GOVERNANCE_BELOW_THRESHOLD
 */
export async function checkProposalThreshold(ctx: ChainContext, proposer: Address): Promise<ProposerVotes> {
  const governor = ctx.contracts.governor;
  const clock = await governor.read.clock();
  const timepoint = clock > 0n ? BigInt(clock) - 1n : 0n;
  const [threshold, votes] = await Promise.all([governor.read.proposalThreshold(), governor.read.getVotes([proposer, timepoint])]);
  if (votes < threshold) {
    throw new GovernanceError(
      `${proposer} has ${formatLearn(votes)} of votes at block ${timepoint}; proposing on this governor needs ${formatLearn(threshold)}`,
      {
        code: "GOVERNANCE_BELOW_THRESHOLD",
        fix: "get votes delegated to this account (holders run `protolearn delegate <this address>`; your own tokens count once you run `protolearn delegate`), wait one block, and propose again — or ask an account above the threshold to propose",
      },
    );
  }
  return { votes, threshold, timepoint };
}
