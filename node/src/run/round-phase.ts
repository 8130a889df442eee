/**
 * The node's mirror of the run contract's round state machine (contracts/run/TrainingRun.sol
 * `phase()`). The contract is the source of truth; this module is the one place the node names
 * the phases and derives a phase from a round's deadlines and flags, and
 * test/node/round-phase.test.ts checks it against the contract's `phase()` at every deadline.
 *
 *   commit       while now <= commitDeadline
 *   reveal       while commitDeadline < now <= revealDeadline
 *   score        while revealDeadline < now <= scoreDeadline
 *   finalizable  after scoreDeadline, until someone finalizes
 * Halted beats paused beats the deadlines. A finalized round whose successor has not opened is
 * paused (the contract opens the next round at once unless the run is paused).
 */

/** The contract's `ITrainingRun.Phase` enum, in its order: index = the enum's uint8 value. */
export const ROUND_PHASES = ["commit", "reveal", "score", "finalizable", "paused", "halted"] as const;

export type RoundPhase = (typeof ROUND_PHASES)[number];

export interface RoundDeadlines {
  commitDeadline: bigint;
  revealDeadline: bigint;
  scoreDeadline: bigint;
}

/** What the phase depends on besides the clock: the round's deadlines and the run's flags. */
export interface RoundStatus extends RoundDeadlines {
  paused: boolean;
  halted: boolean;
  finalized: boolean;
}

/** The phase of `round` at chain time `now` (a block timestamp), exactly as the contract computes it. */
export function phaseAt(round: RoundStatus, now: bigint): RoundPhase {
  if (round.halted) return "halted";
  if (round.paused || round.finalized) return "paused";
  if (now <= round.commitDeadline) return "commit";
  if (now <= round.revealDeadline) return "reveal";
  if (now <= round.scoreDeadline) return "score";
  return "finalizable";
}

/** The phase named by the contract's `phase()` return value; unknown values are named, not guessed. */
export function phaseName(contractPhase: number): RoundPhase | `unknown(${number})` {
  return ROUND_PHASES[contractPhase] ?? `unknown(${contractPhase})`;
}

/** The contract's enum value of `phase` (for metrics and comparisons with `phase()`). */
export function phaseIndex(phase: RoundPhase): number {
  return ROUND_PHASES.indexOf(phase);
}

/** Seconds until the current phase ends (0 when it has no deadline). */
export function secondsLeft(round: RoundDeadlines, phase: RoundPhase, now: bigint): bigint {
  const end =
    phase === "commit" ? round.commitDeadline : phase === "reveal" ? round.revealDeadline : phase === "score" ? round.scoreDeadline : now;
  return end > now ? end - now : 0n;
}
