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
import { assignedTo, roundAssignment, voteScores } from "../history/round-votes.js";

/**
 * One round's contribution records, joined from its events: per trainer the commit, the reveal,
 * its scorer seats and their scores, the median, accepted or not, the reward and any slash (with
 * its evidence hash and appeal status from the StakeManager); the committee; per committee member
 * its seats, the updates assigned to it, its vote commit and reveal, and its settlement. The audit prints it, the explorer's round page shows it.
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
  /** The committee seat the score was given for (one of the update's k scorers). */
  seat: number;
  scorePpm: number;
}

export interface Contribution {
  node: Address;
  /** Position of the commit in the round (0 = first), null if the node never committed. */
  commitIndex: number | null;
  commitment: Hex | null;
  committedAt: EventRef | null;
  reveal: { index: number; cid: string; contentHash: Hex; samples: Uint; at: EventRef } | null;
  /** The committee seats assigned to score it (scorersOf), ascending; empty before the committee is drawn. */
  scorerSeats: number[];
  /** Every revealed score of this update (one per scoring seat whose holder revealed), in vote-reveal order. */
  scores: ContributionScore[];
  /** The settlement outcome; null while the round is open or for an unrevealed commit. */
  medianScore: number | null;
  /** Revealed scorer seats the median was taken over (null before settlement). */
  scorers: number | null;
  rewardPoints: Uint | null;
  accepted: boolean | null;
  reward: Uint | null;
  slashes: SlashView[];
}

export interface ValidatorVoteView {
  validator: Address;
  /** Committee seats it holds this round (its vote weight). */
  weight: number;
  seats: number[];
  /** The reveal indices assigned to its seats: the updates it had to score. */
  assigned: number[];
  /** Its blind vote (VoteCommitted), null if it committed none. */
  commitment: Hex | null;
  committedAt: EventRef | null;
  /** Whether it revealed the vote. */
  revealed: boolean;
  /** The revealed model hash and loss (null when not revealed). */
  modelHash: Hex | null;
  evalLoss: Uint | null;
  /** Whether its model hash is the 2/3 majority's (null before finalize). */
  agreed: boolean | null;
  reward: Uint | null;
  slashes: SlashView[];
  at: EventRef | null;
}

export interface RoundAudit {
  round: number;
  status: RoundStatus;
  /**
   * RoundOpened(r).modelHash: the last agreed hash when the round opened (the hash of M_{r'} for
   * the last round r' < r that succeeded), not necessarily M_r (node/src/sync/model-chain.ts).
   */
  openedModelHash: Hex | null;
  seed: Hex | null;
  /** rand_r: committee, assignment and validation batches (null until fixed). */
  randomness: Hex | null;
  /** Seat j's holder (null until drawn). */
  committee: Address[] | null;
  deadlines: { commit: Uint; reveal: Uint; score: Uint; voteReveal: Uint } | null;
  /** Settlement progress (items settled of the total), null before the first batch. */
  settlement: { processed: number; total: number } | null;
  openedAt: EventRef | null;
  paramsApplied: boolean;
  /** For an agreed round: the hash of M_r its committee attested, M_r's held-out loss (1e9-scaled), accepted count, emission. */
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
  const assignment = roundAssignment(run, round);
  const scoresByIndex = new Map<number, ContributionScore[]>();
  for (const v of votes) {
    for (const s of voteScores(assignment, v)) {
      const list = scoresByIndex.get(s.index) ?? [];
      list.push({ validator: v.validator, seat: s.seat, scorePpm: s.scorePpm });
      scoresByIndex.set(s.index, list);
    }
  }
  const scorerSeats = (index: number): number[] =>
    assignment === null ? [] : assignment.bySeat.flatMap((indices, seat) => (indices.includes(index) ? [seat] : []));
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
      scorerSeats: scorerSeats(reveal.index),
      scores: scoresByIndex.get(reveal.index) ?? [],
      medianScore: result?.medianScore ?? null,
      scorers: result?.scorers ?? null,
      rewardPoints: result?.rewardPoints ?? null,
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
      scorerSeats: [],
      scores: [],
      medianScore: null,
      scorers: null,
      rewardPoints: null,
      accepted: null,
      reward: null,
      slashes: slashViews(records, round, commit.node),
    });
  });

  // Every committee member, in seat order of its first seat, then anyone else who committed a vote.
  const members: Address[] = [];
  const seen = new Set<string>();
  const add = (a: Address): void => {
    if (a === "0x0000000000000000000000000000000000000000" || seen.has(a.toLowerCase())) return;
    seen.add(a.toLowerCase());
    members.push(a);
  };
  for (const a of round.committee ?? []) add(a);
  for (const c of round.voteCommits) add(c.validator);
  for (const v of votes) add(v.validator);
  const validators: ValidatorVoteView[] = members.map((validator) => {
    const key = validator.toLowerCase();
    const settled = settlement.get(key);
    const commit = round.voteCommits.find((c) => c.validator.toLowerCase() === key);
    const revealed = votes.find((v) => v.validator.toLowerCase() === key);
    const mine = assignedTo(assignment, validator);
    return {
      validator,
      weight: revealed?.weight ?? commit?.weight ?? mine.seats.length,
      seats: mine.seats,
      assigned: mine.indices,
      commitment: commit?.commitment ?? null,
      committedAt: commit?.at ?? null,
      revealed: revealed !== undefined,
      modelHash: revealed?.modelHash ?? null,
      evalLoss: revealed?.evalLoss ?? null,
      agreed: settled?.agreed ?? null,
      reward: settled?.reward ?? null,
      slashes: slashViews(records, round, validator),
      at: revealed?.at ?? commit?.at ?? null,
    };
  });

  const result = round.result;
  return {
    round: round.round,
    status: result === null ? "open" : result.kind,
    openedModelHash: round.opened?.modelHash ?? (round.round === 1 ? run.initialModelHash : null),
    seed: round.opened?.seed ?? null,
    randomness: round.randomness?.value ?? null,
    committee: round.committee,
    settlement: round.settlement === null ? null : { processed: round.settlement.processed, total: round.settlement.total },
    deadlines:
      round.opened === null
        ? null
        : {
            commit: round.opened.commitDeadline,
            reveal: round.opened.revealDeadline,
            score: round.opened.scoreDeadline,
            voteReveal: round.opened.voteRevealDeadline,
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
