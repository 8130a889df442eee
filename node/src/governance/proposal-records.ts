import type { Abi, Address, Hex } from "viem";
import { toChainError } from "../chain/chain-error.js";
import { protolearnErrorsAbi, type ChainContext } from "../chain/client.js";
import { ChainHistory, compareRefs } from "../history/index.js";
import type { ProposalAction } from "./build-proposal.js";
import { GovernanceError } from "./governance-error.js";
import { proposalStateName, type ProposalStateName } from "./proposal-state.js";

/**
 * Proposals as the chain records them: the governor keeps only hashes, so the calls and the
 * description of a proposal come from its ProposalCreated event; its state, votes and eta come
 * from the governor's views.
 */

export interface ProposalRecord {
  id: bigint;
  proposer: Address;
  targets: Address[];
  values: bigint[];
  calldatas: Hex[];
  description: string;
  /** Block from which votes count (the snapshot is voteStart). */
  voteStart: bigint;
  /** Last block of the vote. */
  voteEnd: bigint;
  /** Block of the ProposalCreated event. */
  createdBlock: bigint;
}

export interface ProposalStatus {
  state: ProposalStateName;
  forVotes: bigint;
  againstVotes: bigint;
  abstainVotes: bigint;
  /** Votes needed (quorum at the snapshot; counts for + abstain). */
  quorum: bigint;
  /** Timestamp from which the queued proposal can execute (0 when not queued). */
  eta: bigint;
}

/** Every proposal created since the deployment, oldest first (from the chain's history). */
export async function listProposals(ctx: ChainContext): Promise<ProposalRecord[]> {
  const records = await new ChainHistory({ client: ctx.publicClient, deployment: ctx.deployment }).sync();
  return Object.values(records.proposals)
    .sort((x, y) => compareRefs(x.created, y.created))
    .map((p) => ({
      id: BigInt(p.id),
      proposer: p.proposer,
      targets: [...p.targets],
      values: p.values.map((v) => BigInt(v)),
      calldatas: [...p.calldatas],
      description: p.description,
      voteStart: BigInt(p.voteStart),
      voteEnd: BigInt(p.voteEnd),
      createdBlock: BigInt(p.created.block),
    }));
}

/** Parses a proposal id given in decimal or 0x-hex. */
export function parseProposalId(text: string): bigint {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed) || /^0x[0-9a-fA-F]{1,64}$/.test(trimmed)) return BigInt(trimmed);
  throw new GovernanceError(`"${text}" is not a proposal id`, {
    code: "GOVERNANCE_BAD_PROPOSAL_ID",
    fix: "copy the id (a long decimal number) from `protolearn proposals`",
  });
}

/** The proposal `id`, rebuilt from its ProposalCreated event. */
export async function findProposal(ctx: ChainContext, id: bigint): Promise<ProposalRecord> {
  const found = (await listProposals(ctx)).find((p) => p.id === id);
  if (found === undefined) {
    throw new GovernanceError(`no proposal ${id} on the ${ctx.deployment.network} governor`, {
      code: "GOVERNANCE_UNKNOWN_PROPOSAL",
      fix: "list the proposals with `protolearn proposals` and copy the id from there",
    });
  }
  return found;
}

/** State, tally, quorum and eta of proposal `id`. */
export async function proposalStatus(
  ctx: ChainContext,
  id: bigint,
  snapshot: bigint,
): Promise<ProposalStatus> {
  const governor = ctx.contracts.governor;
  const [state, votes, eta, head] = await Promise.all([
    governor.read.state([id]),
    governor.read.proposalVotes([id]),
    governor.read.proposalEta([id]),
    ctx.publicClient.getBlockNumber({ cacheTime: 0 }),
  ]);
  // quorum(t) needs a past timepoint; before the snapshot is mined, use the latest past block.
  const quorumAt = snapshot < head ? snapshot : head - 1n;
  const quorum = await governor.read.quorum([quorumAt < 0n ? 0n : quorumAt]);
  const [againstVotes, forVotes, abstainVotes] = votes;
  return { state: proposalStateName(state), forVotes, againstVotes, abstainVotes, quorum, eta };
}

/** What to do when a proposal's call would revert, phrased for a proposer. */
export const PROPOSAL_FIXES: Readonly<Record<string, string>> = {
  TrainingRunPaused: "the run is already paused; there is nothing to pause",
  TrainingRunNotPaused: "the run is not paused, so there is nothing to resume",
  TrainingRunHalted: "the run is halted for good; no proposal can change it any more",
  ERC20InsufficientBalance:
    "the treasury (the timelock) holds less than that: propose a smaller amount",
  StakeManagerUnexpectedSlashStatus:
    "that slash is not in escrow (unknown id, or already reversed or resolved): check the slash id",
  StakeManagerAppealWindowClosed:
    "the slash's appeal window has closed; it can no longer be reversed",
  TrainingRunModelIdZero: "give modelId a model name or a non-zero 32-byte hash",
  TrainingRunQuantBitsInvalid: "quantBits must be 8, 4 or 2",
  TrainingRunAggregationInvalid: "aggregation must be 0 (trimmed mean) or 1 (median)",
};

/**
 * Simulates every call of a proposal as the timelock would make it now (an eth_call from the
 * timelock's address), so a call that would revert — a parameter out of bounds, pausing a paused
 * run, reversing a resolved slash, moving more than the treasury holds — is refused before the
 * proposal is sent instead of failing at execution, days later.
 */
export async function checkActionsAsTimelock(
  ctx: ChainContext,
  actions: readonly ProposalAction[],
): Promise<void> {
  for (const a of actions) {
    try {
      await ctx.publicClient.simulateContract({
        address: a.target,
        abi: [...a.abi, ...protolearnErrorsAbi] as Abi,
        functionName: a.functionName,
        args: a.args,
        value: a.value,
        account: ctx.deployment.contracts.RunTimelock,
      });
    } catch (err) {
      const chainError = toChainError(err, `${a.functionName} (as the timelock)`);
      if (chainError.code !== "CHAIN_REVERTED") throw chainError;
      const errorName = chainError.revert?.errorName ?? "an error";
      throw new GovernanceError(
        `the proposal would fail when the timelock executes it: ${a.functionName} reverts with ${errorName}(${(chainError.revert?.args ?? []).map(String).join(", ")})`,
        {
          code: "GOVERNANCE_ACTION_REVERTS",
          fix:
            PROPOSAL_FIXES[errorName] ??
            (errorName.endsWith("OutOfRange")
              ? "choose a value inside [min, max], the last two numbers of the error"
              : undefined) ??
            "change the proposal so that the call succeeds now",
          cause: chainError,
        },
      );
    }
  }
}
