import { isAddressEqual, type Address, type Hex } from "viem";
import { enumName, ROUND_FAILURES, SLASH_REASONS } from "../chain/contract-enums.js";
import {
  compareRefs,
  type ChainRecords,
  type EventRef,
  type RoundRecord,
  type RunRecord,
  type SlashStatusName,
  type Uint,
} from "../history/chain-records.js";

/**
 * One round's contribution records, joined from its events: per trainer the commit, the reveal,
 * every validator's score, the stake-weighted median, accepted or not, the reward and any slash
 * (with its evidence hash and appeal status from the StakeManager); per validator its vote and
 * settlement. The audit prints it, the explorer's round page shows it.
 */

export type RoundStatus = "open" | "agreed" | "failed";

export interface SlashView {
  slashId: Uint;
  reason: string;
  amount: Uint;
  /** From the StakeManager's Slashed event (null if that event was not found). */
  evidenceHash: Hex | null;
  status: SlashStatusName | "unknown";
  at: EventRef;
}

export interface ContributionScore {
  validator: Address;
  weight: Uint;
  scorePpm: number;
}

export interface Contribution {
  node: Address;
  /** Position of the commit in the round (0 = first), null if the node never committed. */
  commitIndex: number | null;
  commitment: Hex | null;
  committedAt: EventRef | null;
  reveal: { index: number; cid: string; contentHash: Hex; samples: Uint; at: EventRef } | null;
  /** Every validator's score of this update, in vote order. */
  scores: ContributionScore[];
  /** The finalize outcome; null while the round is open or for an unrevealed commit. */
  medianScore: number | null;
  accepted: boolean | null;
  reward: Uint | null;
  slashes: SlashView[];
}

export interface ValidatorVoteView {
  validator: Address;
  weight: Uint;
  modelHash: Hex;
  evalLoss: Uint;
  /** Whether its model hash is the 2/3 majority's (null before finalize). */
  agreed: boolean | null;
  reward: Uint | null;
  slashes: SlashView[];
  at: EventRef;
}

export interface RoundAudit {
  round: number;
  status: RoundStatus;
  /** M_r, the model the round trained from. */
  openedModelHash: Hex | null;
  seed: Hex | null;
  deadlines: { commit: Uint; reveal: Uint; score: Uint } | null;
  openedAt: EventRef | null;
  paramsApplied: boolean;
  /** For an agreed round: M_{r+1}, its held-out loss (1e9-scaled), accepted count, emission. */
  agreed: {
    modelHash: Hex;
    evalLoss: Uint;
    acceptedUpdates: number;
    emission: Uint;
    emissionFailed: boolean;
    at: EventRef;
  } | null;
  failed: { reason: string; at: EventRef } | null;
  commits: number;
  reveals: number;
  contributions: Contribution[];
  validators: ValidatorVoteView[];
}

function slashViews(records: ChainRecords, round: RoundRecord, node: Address): SlashView[] {
  return round.slashes
    .filter((s) => isAddressEqual(s.node, node))
    .map((s) => {
      const record = records.slashes[s.slashId];
      return {
        slashId: s.slashId,
        reason: enumName(SLASH_REASONS, s.reason),
        amount: s.amount,
        evidenceHash: record?.evidenceHash ?? null,
        status: record?.status ?? "unknown",
        at: s.at,
      };
    });
}

/** The joined record of `round` of `run`. */
export function auditRound(records: ChainRecords, run: RunRecord, round: RoundRecord): RoundAudit {
  const reveals = [...round.reveals].sort((a, b) => a.index - b.index);
  const commits = [...round.commits].sort((a, b) => compareRefs(a.at, b.at));
  const votes = [...round.votes].sort((a, b) => compareRefs(a.at, b.at));
  const commitIndex = new Map(commits.map((c, i) => [c.node.toLowerCase(), i]));
  const outcome = new Map(round.outcomes.map((o) => [o.node.toLowerCase(), o]));
  const settlement = new Map(round.settlements.map((s) => [s.validator.toLowerCase(), s]));

  const contributions: Contribution[] = reveals.map((reveal) => {
    const key = reveal.node.toLowerCase();
    const commit = commits[commitIndex.get(key) ?? -1];
    const result = outcome.get(key);
    return {
      node: reveal.node,
      commitIndex: commitIndex.get(key) ?? null,
      commitment: commit?.commitment ?? null,
      committedAt: commit?.at ?? null,
      reveal: {
        index: reveal.index,
        cid: reveal.cid,
        contentHash: reveal.contentHash,
        samples: reveal.samples,
        at: reveal.at,
      },
      scores: votes.map((v) => ({
        validator: v.validator,
        weight: v.weight,
        scorePpm: v.scores[reveal.index] ?? 0,
      })),
      medianScore: result?.medianScore ?? null,
      accepted: result?.accepted ?? null,
      reward: result?.reward ?? null,
      slashes: slashViews(records, round, reveal.node),
    };
  });
  const revealed = new Set(reveals.map((r) => r.node.toLowerCase()));
  commits.forEach((commit, i) => {
    if (revealed.has(commit.node.toLowerCase())) return;
    contributions.push({
      node: commit.node,
      commitIndex: i,
      commitment: commit.commitment,
      committedAt: commit.at,
      reveal: null,
      scores: [],
      medianScore: null,
      accepted: null,
      reward: null,
      slashes: slashViews(records, round, commit.node),
    });
  });

  const validators: ValidatorVoteView[] = votes.map((v) => {
    const settled = settlement.get(v.validator.toLowerCase());
    return {
      validator: v.validator,
      weight: v.weight,
      modelHash: v.modelHash,
      evalLoss: v.evalLoss,
      agreed: settled?.agreed ?? null,
      reward: settled?.reward ?? null,
      slashes: slashViews(records, round, v.validator),
      at: v.at,
    };
  });

  const result = round.result;
  return {
    round: round.round,
    status: result === null ? "open" : result.kind,
    openedModelHash: round.opened?.modelHash ?? (round.round === 1 ? run.initialModelHash : null),
    seed: round.opened?.seed ?? null,
    deadlines:
      round.opened === null
        ? null
        : {
            commit: round.opened.commitDeadline,
            reveal: round.opened.revealDeadline,
            score: round.opened.scoreDeadline,
          },
    openedAt: round.opened?.at ?? null,
    paramsApplied: round.paramsApplied,
    agreed:
      result?.kind === "agreed"
        ? {
            modelHash: result.modelHash,
            evalLoss: result.evalLoss,
            acceptedUpdates: result.acceptedUpdates,
            emission: result.emission,
            emissionFailed: round.emissionFailed !== null,
            at: result.at,
          }
        : null,
    failed:
      result?.kind === "failed"
        ? { reason: enumName(ROUND_FAILURES, result.reason), at: result.at }
        : null,
    commits: commits.length,
    reveals: reveals.length,
    contributions,
    validators,
  };
}
