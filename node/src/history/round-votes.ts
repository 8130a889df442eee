import type { Address } from "viem";
import { assignmentsBySeat, heldSeats } from "../run/committee.js";
import type { RoundRecord, RunRecord, VoteRecord } from "./chain-records.js";
import { paramsAt } from "./params-history.js";

/**
 * Who scored what in a v2 round, from its records alone: the committee (CommitteeDrawn), the
 * assignment of revealed updates to seats (recomputed from the round's randomness with the same
 * rule as the contract, node/src/run/committee.ts) and each revealed vote's scores per reveal
 * index. The audit, `protolearn status` and the explorer read these.
 */

export interface RoundAssignment {
  committee: Address[];
  /** Reveal indices assigned to each seat, ascending. */
  bySeat: number[][];
  /** k of the round. */
  scorersPerUpdate: number;
}

/** The round's committee and assignment, or null before its randomness and committee are on record. */
export function roundAssignment(run: RunRecord, round: RoundRecord): RoundAssignment | null {
  if (round.committee === null || round.randomness === null || round.committee.length === 0) return null;
  const committeeSize = round.committee.length;
  const k = Math.min(Number(paramsAt(run, round.round).scorersPerUpdate ?? 1) || 1, committeeSize);
  const revealers = [...round.reveals].sort((a, b) => a.index - b.index).map((r) => r.node);
  return { committee: round.committee, bySeat: assignmentsBySeat(round.randomness.value, revealers, committeeSize, k), scorersPerUpdate: k };
}

/** The seats `validator` holds and the reveal indices assigned to them (ascending, no repeats). */
export function assignedTo(assignment: RoundAssignment | null, validator: Address): { seats: number[]; indices: number[] } {
  if (assignment === null) return { seats: [], indices: [] };
  const seats = heldSeats(assignment.committee, validator);
  const indices = [...new Set(seats.flatMap((seat) => assignment.bySeat[seat] ?? []))].sort((a, b) => a - b);
  return { seats, indices };
}

/** One score a revealed vote gave: the update (reveal index), the seat it was given for, the ppm. */
export interface SeatScore {
  index: number;
  seat: number;
  scorePpm: number;
}

/**
 * A revealed vote's scores per update: seatLengths[i] scores for the i-th held seat (ascending),
 * each in the order of that seat's assigned indices. A vote whose shape does not match the
 * assignment (it cannot be on chain: revealVote checks it) yields what matches.
 */
export function voteScores(assignment: RoundAssignment | null, vote: VoteRecord): SeatScore[] {
  if (assignment === null) return [];
  const seats = heldSeats(assignment.committee, vote.validator);
  const out: SeatScore[] = [];
  let at = 0;
  seats.forEach((seat, i) => {
    const length = vote.seatLengths[i] ?? 0;
    const indices = assignment.bySeat[seat] ?? [];
    for (let j = 0; j < length; j++) {
      const index = indices[j];
      const score = vote.scores[at + j];
      if (index !== undefined && score !== undefined) out.push({ index, seat, scorePpm: score });
    }
    at += length;
  });
  return out;
}
