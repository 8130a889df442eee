import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";
import { ProtolearnError } from "../errors.js";

/**
 * The node's mirror of the run contract's draws (contracts/run/RoundLib.sol, TrainingRun.sol;
 * .v2/spec.md): the trainer seat lottery, the stake-weighted committee and the assignment of
 * revealed updates to committee seats. The contract is the source of truth and the daemon reads
 * its views (`seatDraw`, `committee`, `assignedTo`); this module is what the simulation
 * (node/src/round/committee-work.ts) and the audit compute offline, and
 * test/node/committee.test.ts checks it against the contract's views.
 */

/** Draws are in ppm: a seat needs draw < threshold. */
export const DRAW_SCALE = 1_000_000n;

const ZERO_ADDRESS: Address = "0x0000000000000000000000000000000000000000";

function hashUint(rand: Hex, value: bigint): bigint {
  return BigInt(keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [rand, value])));
}

function hashAddress(rand: Hex, node: Address): bigint {
  return BigInt(keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "address" }], [rand, node])));
}

/** `uint256(keccak256(abi.encode(rand, node))) % 1e6`: a trainer's lottery draw (rand = rand_{r-1}). */
export function seatDrawOf(seatRandomness: Hex, node: Address): bigint {
  return hashAddress(seatRandomness, node) % DRAW_SCALE;
}

/** `min(1e6, seats × lock × 1e6 / total)`, 0 when total is 0: the draw a lock must stay under. */
export function seatThreshold(trainerSeats: bigint, lock: bigint, total: bigint): bigint {
  if (total === 0n) return 0n;
  const t = (trainerSeats * lock * DRAW_SCALE) / total;
  return t > DRAW_SCALE ? DRAW_SCALE : t;
}

/** Inputs of {@link seatOf}: what the contract's `seatDraw(node)` reads. */
export interface SeatInputs {
  /** rand_{r-1} (currentRound().seatRandomness). */
  seatRandomness: Hex;
  node: Address;
  /** The node's lock in the run. */
  lock: bigint;
  /** The first round its lock counts in (memberOf.eligibleFrom). */
  eligibleFrom: bigint;
  round: bigint;
  minTrainerStake: bigint;
  trainerSeats: bigint;
  /** Total trainer lock eligible for the round (currentRound().seatTotal). */
  seatTotal: bigint;
}

/** Why a trainer has no seat in a round, or that it has one. */
export type SeatVerdict =
  | { seat: true; draw: bigint; threshold: bigint }
  | { seat: false; reason: "not-eligible"; eligibleFrom: bigint; draw: bigint; threshold: 0n }
  | { seat: false; reason: "stale-lock"; lock: bigint; min: bigint; draw: bigint; threshold: 0n }
  | { seat: false; reason: "lost-lottery"; draw: bigint; threshold: bigint };

/** The seat lottery of one trainer in one round, as `seatDraw` decides it, with the reason when it has none. */
export function seatOf(input: SeatInputs): SeatVerdict {
  const draw = seatDrawOf(input.seatRandomness, input.node);
  if (input.eligibleFrom === 0n || input.eligibleFrom > input.round) {
    return { seat: false, reason: "not-eligible", eligibleFrom: input.eligibleFrom, draw, threshold: 0n };
  }
  if (input.lock < input.minTrainerStake) {
    return { seat: false, reason: "stale-lock", lock: input.lock, min: input.minTrainerStake, draw, threshold: 0n };
  }
  const threshold = seatThreshold(input.trainerSeats, input.lock, input.seatTotal);
  return draw < threshold ? { seat: true, draw, threshold } : { seat: false, reason: "lost-lottery", draw, threshold };
}

/** One validator of `validatorSet()`, in its order. */
export interface ValidatorLock {
  validator: Address;
  lock: bigint;
}

/**
 * The committee `rand` draws: C seats with replacement, stake-weighted over the validators whose
 * lock is at least `minValidatorStake` (in `validatorSet()` order, stale ones skipped). Seat j's
 * point is `uint256(keccak256(abi.encode(rand, j))) % T` (T the sum of those locks); its holder
 * is the validator whose cumulative lock range [before, before + lock) contains it. No eligible
 * stake → C zero addresses.
 */
export function drawCommittee(
  rand: Hex,
  validators: readonly ValidatorLock[],
  minValidatorStake: bigint,
  committeeSize: number,
): Address[] {
  const eligible = validators.filter((v) => v.lock >= minValidatorStake && v.lock > 0n);
  const cumulative: bigint[] = [];
  let total = 0n;
  for (const v of eligible) {
    total += v.lock;
    cumulative.push(total);
  }
  const seats: Address[] = [];
  for (let j = 0; j < committeeSize; j++) {
    if (total === 0n) {
      seats.push(ZERO_ADDRESS);
      continue;
    }
    const x = hashUint(rand, BigInt(j)) % total;
    // Binary search: the first cumulative sum strictly above x.
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as bigint) > x) hi = mid;
      else lo = mid + 1;
    }
    seats.push((eligible[lo] as ValidatorLock).validator);
  }
  return seats;
}

/** `uint256(keccak256(abi.encode(rand, node))) % C`: the first of the k seats that score `node`'s update. */
export function assignmentBase(rand: Hex, node: Address, committeeSize: number): number {
  return Number(hashAddress(rand, node) % BigInt(committeeSize));
}

/** The k seats `(base + t) % C`, t = 0 … k−1, that score `node`'s update (`scorersOf`). */
export function scorersOfNode(rand: Hex, node: Address, committeeSize: number, k: number): number[] {
  checkShape(committeeSize, k);
  const base = assignmentBase(rand, node, committeeSize);
  return Array.from({ length: k }, (_, t) => (base + t) % committeeSize);
}

/**
 * For every committee seat, the reveal indices assigned to it, ascending (`assignedTo(seat)`
 * for each seat): `revealers[i]` is the node of revealed update i.
 */
export function assignmentsBySeat(rand: Hex, revealers: readonly Address[], committeeSize: number, k: number): number[][] {
  checkShape(committeeSize, k);
  const bySeat: number[][] = Array.from({ length: committeeSize }, () => []);
  revealers.forEach((node, index) => {
    for (const seat of scorersOfNode(rand, node, committeeSize, k)) (bySeat[seat] as number[]).push(index);
  });
  return bySeat;
}

/** The seats `validator` holds in `committee`, ascending (its vote has one seat length per entry). */
export function heldSeats(committee: readonly Address[], validator: Address): number[] {
  const me = validator.toLowerCase();
  const seats: number[] = [];
  committee.forEach((holder, seat) => {
    if (holder.toLowerCase() === me) seats.push(seat);
  });
  return seats;
}

/**
 * The vote's shape: per held seat (ascending) the scores of its assigned updates, from a score
 * per reveal index. Returns `seatLengths` and the concatenated `scores` of `revealVote`.
 */
export function voteShape(
  seats: readonly number[],
  assigned: (seat: number) => readonly number[],
  scoreOf: (index: number) => number,
): { seatLengths: number[]; scores: number[] } {
  const seatLengths: number[] = [];
  const scores: number[] = [];
  for (const seat of seats) {
    const indices = assigned(seat);
    seatLengths.push(indices.length);
    for (const index of indices) scores.push(scoreOf(index));
  }
  return { seatLengths, scores };
}

function checkShape(committeeSize: number, k: number): void {
  if (!Number.isInteger(committeeSize) || committeeSize < 1 || !Number.isInteger(k) || k < 1 || k > committeeSize) {
    throw new ProtolearnError(`a committee of ${committeeSize} seats cannot give every update ${k} scorers`, {
      code: "COMMITTEE_BAD_SHAPE",
      fix: "pass the run's committeeSize (C ≥ 1) and scorersPerUpdate (1 ≤ k ≤ C) from params()",
    });
  }
}
