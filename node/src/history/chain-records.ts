import type { Address, Hex } from "viem";
import type { RoleName as ContractRoleName } from "../chain/contract-enums.js";

/**
 * The protocol's public record, rebuilt from events alone: every run (its parameters, rounds,
 * commits, reveals, votes, outcomes, slashes, members, claims), every account's stake history,
 * every slash record with its appeal status, every governance proposal with its votes.
 *
 * Plain JSON on purpose (amounts in wei as decimal strings, addresses EIP-55 checksummed, map
 * keys of addresses lower-case): the same value is the audit's input, the explorer's disk cache
 * and its API payload, so a page shows exactly what `protolearn audit --json` prints.
 */

/** Where an event sits on chain: enough to link it and to order it. */
export interface EventRef {
  block: number;
  logIndex: number;
  tx: Hex;
}

/** A run role as the records spell it (`ITrainingRun.Role` in lower case). */
export type RoleName = Lowercase<ContractRoleName>;

/** A value the ABI types uint64 or wider, in decimal. */
export type Uint = string;

export interface RoundOpenedRecord {
  seed: Hex;
  /** M_r: the global model this round trains from. */
  modelHash: Hex;
  commitDeadline: Uint;
  revealDeadline: Uint;
  scoreDeadline: Uint;
  voteRevealDeadline: Uint;
  at: EventRef;
}

export interface CommitRecord {
  node: Address;
  commitment: Hex;
  at: EventRef;
}

export interface RevealRecord {
  /** Position in reveal order (`assignedTo` lists these indices; scorers are drawn per node). */
  index: number;
  node: Address;
  cid: string;
  contentHash: Hex;
  samples: Uint;
  at: EventRef;
}

/** A committee member's blind vote (VoteCommitted). */
export interface VoteCommitRecord {
  validator: Address;
  /** Committee seats it holds (its vote's weight). */
  weight: number;
  commitment: Hex;
  at: EventRef;
}

/** A revealed vote (VoteRevealed). */
export interface VoteRecord {
  validator: Address;
  /** Committee seats it holds. */
  weight: number;
  modelHash: Hex;
  /** Held-out loss of that model, 1e9-scaled. */
  evalLoss: Uint;
  /** Per held seat (ascending), how many of `scores` belong to it. */
  seatLengths: number[];
  /** Per held seat, the scores (ppm) of the updates assigned to it in reveal order, concatenated ({@link voteScoresByIndex}). */
  scores: number[];
  at: EventRef;
}

export interface UpdateOutcomeRecord {
  node: Address;
  /** Reveal index. */
  index: number;
  /** Median of its scorers' scores (ppm). */
  medianScore: number;
  /** Revealed seats of its k scorers that the median was taken over. */
  scorers: number;
  accepted: boolean;
  /** median × capped samples when accepted (else 0). */
  rewardPoints: Uint;
  /** rewardPoints × pool / totalPoints once TrainerPoolSet is in (wei; "0" before). */
  reward: Uint;
  at: EventRef;
}

export interface ValidatorOutcomeRecord {
  validator: Address;
  agreed: boolean;
  reward: Uint;
  at: EventRef;
}

export interface NodeSlashedRecord {
  node: Address;
  reason: number;
  amount: Uint;
  slashId: Uint;
  at: EventRef;
}

export type RoundResult =
  | {
      kind: "agreed";
      /** M_{r+1}. */
      modelHash: Hex;
      evalLoss: Uint;
      acceptedUpdates: number;
      emission: Uint;
      at: EventRef;
    }
  | { kind: "failed"; reason: number; at: EventRef };

export interface RoundRecord {
  round: number;
  opened: RoundOpenedRecord | null;
  /** ChallengeArmed: the block whose hash is the round's randomness (re-armed when it expired). */
  challenge: { challengeBlock: Uint; at: EventRef }[];
  /** rand_r (ChallengeFixed): committee, assignment and validation batches derive from it. */
  randomness: { value: Hex; at: EventRef } | null;
  /** CommitteeDrawn: seat j's holder. */
  committee: Address[] | null;
  /** Blind votes, in commit order. */
  voteCommits: VoteCommitRecord[];
  /** Whether governance parameters became active as this round opened. */
  paramsApplied: boolean;
  /** In commit order. */
  commits: CommitRecord[];
  /** In reveal order. */
  reveals: RevealRecord[];
  /** Revealed votes, in reveal order. */
  votes: VoteRecord[];
  outcomes: UpdateOutcomeRecord[];
  /** The last SettlementProgress (items settled of the total). */
  settlement: { processed: number; total: number; at: EventRef } | null;
  /** TrainerPoolSet: each accepted update earns rewardPoints × pool / totalPoints. */
  trainerPool: { pool: Uint; totalPoints: Uint; at: EventRef } | null;
  /** TrainerRewarded: points credited as claimable rewards (lazily, at a later commit, claim or leave). */
  trainerRewards: { node: Address; amount: Uint; at: EventRef }[];
  settlements: ValidatorOutcomeRecord[];
  slashes: NodeSlashedRecord[];
  result: RoundResult | null;
  emissionFailed: { amount: Uint; at: EventRef } | null;
}

export interface MembershipEvent {
  /** joined, raised its lock, left, or was evicted (stale lock, or the smallest validator lock in a full set). */
  kind: "joined" | "raised" | "left" | "evicted";
  role: RoleName;
  /** Stake locked on join, added on raise, unlocked on leave or eviction (wei). */
  amount: Uint;
  /** The whole lock after a join or raise (wei). */
  locked?: Uint;
  /** joined / raised: the first round the lock counts in draws (trainer seats, committees). */
  eligibleFrom?: number;
  /** evicted: who sent the eviction. */
  by?: Address;
  at: EventRef;
}

export interface RunRecord {
  runId: number;
  address: Address;
  modelId: Hex;
  initialModelHash: Hex;
  initialModelCid: string;
  guardian: Address | null;
  created: EventRef | null;
  /** The parameters the run was created with (field → value; uint64+ as decimal strings). */
  params: Record<string, string | number>;
  /** Governance parameter changes: set (pending) and, once a round opened with them, applied. */
  paramChanges: {
    effectiveRound: number;
    params: Record<string, string | number>;
    appliedRound: number | null;
    at: EventRef;
  }[];
  /** Pause, unpause and halt, in order. */
  switches: {
    kind: "paused" | "unpaused" | "halted";
    round: number;
    account: Address;
    at: EventRef;
  }[];
  /** Member → its joins and leaves, in order. */
  members: Record<Address, MembershipEvent[]>;
  claims: { node: Address; amount: Uint; at: EventRef }[];
  /** Checkpoints validators announced (CheckpointAnnounced): the full model of `round` at `cid`. */
  checkpoints: { round: number; cid: string; announcer: Address; at: EventRef }[];
  /** Round number (decimal) → its record. */
  rounds: Record<string, RoundRecord>;
}

export type StakeEvent =
  | { kind: "staked"; amount: Uint; bonded: Uint; at: EventRef }
  | { kind: "unstake-requested"; requestId: Uint; amount: Uint; releaseAt: Uint; at: EventRef }
  | { kind: "withdrawn"; amount: Uint; entries: Uint; at: EventRef }
  | { kind: "locked"; run: Address; amount: Uint; lockedByRun: Uint; at: EventRef }
  | { kind: "unlocked"; run: Address; amount: Uint; lockedByRun: Uint; at: EventRef }
  /** a slash took `amount` out of `run`'s lock (a slash only ever comes out of its run's lock) */
  | { kind: "lock-shrunk"; run: Address; amount: Uint; slashId: Uint; at: EventRef }
  /** reversing slash `slashId` gave `run`'s lock back the `amount` the slash had taken (G5) */
  | { kind: "lock-restored"; run: Address; amount: Uint; slashId: Uint; at: EventRef };

export type SlashStatusName = "escrowed" | "reversed" | "resolved";

export interface SlashRecord {
  slashId: Uint;
  account: Address;
  run: Address;
  runId: number;
  round: number;
  reason: number;
  amount: Uint;
  /** What the run recorded as evidence: the update's content hash, the unrevealed commitment, or the disagreeing model hash. */
  evidenceHash: Hex;
  at: EventRef;
  status: SlashStatusName;
  /** Governance reversed it inside the appeal window (an appeal that succeeded). */
  reversed: { amount: Uint; at: EventRef } | null;
  /** It left escrow after the window: to `recipient`, or burned. */
  resolved: { amount: Uint; recipient: Address; burned: boolean; at: EventRef } | null;
}

export interface ProposalVoteRecord {
  voter: Address;
  /** 0 against, 1 for, 2 abstain. */
  support: number;
  weight: Uint;
  reason: string;
  at: EventRef;
}

export interface GovernanceProposalRecord {
  id: Uint;
  proposer: Address;
  targets: Address[];
  values: Uint[];
  calldatas: Hex[];
  description: string;
  voteStart: Uint;
  voteEnd: Uint;
  created: EventRef;
  votes: ProposalVoteRecord[];
  queued: { eta: Uint; at: EventRef } | null;
  executed: EventRef | null;
  canceled: EventRef | null;
}

export interface ChainRecords {
  /** 3: rounds v2 (committees, blind votes, batched settlement). */
  version: 3;
  /** runId (decimal) → run. */
  runs: Record<string, RunRecord>;
  /** Account (lower-case) → its StakeManager history. */
  stakes: Record<Address, StakeEvent[]>;
  /** slashId (decimal) → record. */
  slashes: Record<string, SlashRecord>;
  /** Proposal id (decimal) → proposal. */
  proposals: Record<string, GovernanceProposalRecord>;
}

export function emptyRecords(): ChainRecords {
  return { version: 3, runs: {}, stakes: {}, slashes: {}, proposals: {} };
}

export function emptyRound(round: number): RoundRecord {
  return {
    round,
    opened: null,
    challenge: [],
    randomness: null,
    committee: null,
    voteCommits: [],
    paramsApplied: false,
    commits: [],
    reveals: [],
    votes: [],
    outcomes: [],
    settlement: null,
    trainerPool: null,
    trainerRewards: [],
    settlements: [],
    slashes: [],
    result: null,
    emissionFailed: null,
  };
}

/** Rounds of a run in ascending order. */
export function roundsOf(run: RunRecord): RoundRecord[] {
  return Object.values(run.rounds).sort((a, b) => a.round - b.round);
}

/** Orders two event positions on chain. */
export function compareRefs(a: EventRef, b: EventRef): number {
  return a.block === b.block ? a.logIndex - b.logIndex : a.block - b.block;
}
