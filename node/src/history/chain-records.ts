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
  at: EventRef;
}

export interface CommitRecord {
  node: Address;
  commitment: Hex;
  at: EventRef;
}

export interface RevealRecord {
  /** Position in reveal order: where this update's score sits in every validator's scores. */
  index: number;
  node: Address;
  cid: string;
  contentHash: Hex;
  samples: Uint;
  at: EventRef;
}

export interface VoteRecord {
  validator: Address;
  /** Validator stake locked by the run when it voted (wei). */
  weight: Uint;
  modelHash: Hex;
  /** Held-out loss of that model, 1e9-scaled. */
  evalLoss: Uint;
  /** One score (ppm) per reveal, in reveal order. */
  scores: number[];
  at: EventRef;
}

export interface UpdateOutcomeRecord {
  node: Address;
  medianScore: number;
  accepted: boolean;
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
  /** Whether governance parameters became active as this round opened. */
  paramsApplied: boolean;
  /** In commit order. */
  commits: CommitRecord[];
  /** In reveal order. */
  reveals: RevealRecord[];
  votes: VoteRecord[];
  outcomes: UpdateOutcomeRecord[];
  settlements: ValidatorOutcomeRecord[];
  slashes: NodeSlashedRecord[];
  result: RoundResult | null;
  emissionFailed: { amount: Uint; at: EventRef } | null;
}

export interface MembershipEvent {
  kind: "joined" | "left";
  role: RoleName;
  /** Stake locked on join, unlocked on leave (wei). */
  amount: Uint;
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
  version: 2;
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
  return { version: 2, runs: {}, stakes: {}, slashes: {}, proposals: {} };
}

export function emptyRound(round: number): RoundRecord {
  return {
    round,
    opened: null,
    paramsApplied: false,
    commits: [],
    reveals: [],
    votes: [],
    outcomes: [],
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
