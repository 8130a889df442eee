/**
 * The node's mirror of the run contract's round state machine (contracts/run/TrainingRun.sol
 * `phase()`): the contract is the source of truth, and this is the one place the node derives
 * a phase from a round's deadlines, so the two are tested against each other.
 *
 *   commit  while now <= commitDeadline
 *   reveal  while commitDeadline < now <= revealDeadline
 *   score   while revealDeadline < now <= scoreDeadline
 *   finalizable after scoreDeadline (anyone may finalize)
 * Halted beats paused beats the deadlines.
 */
export type RoundPhase = "commit" | "reveal" | "score" | "finalizable" | "paused" | "halted";

/** The contract's `Phase` enum order. */
export const CONTRACT_PHASES: readonly RoundPhase[] = ["commit", "reveal", "score", "finalizable", "paused", "halted"];

export interface RoundDeadlines {
  commitDeadline: bigint;
  revealDeadline: bigint;
  scoreDeadline: bigint;
}

export function phaseAt(round: RoundDeadlines, flags: { paused: boolean; halted: boolean }, now: bigint): RoundPhase {
  if (flags.halted) return "halted";
  if (flags.paused) return "paused";
  if (now <= round.commitDeadline) return "commit";
  if (now <= round.revealDeadline) return "reveal";
  if (now <= round.scoreDeadline) return "score";
  return "finalizable";
}

/** Seconds until the current phase ends (0 when it has no deadline). */
export function secondsLeft(round: RoundDeadlines, phase: RoundPhase, now: bigint): bigint {
  const end =
    phase === "commit" ? round.commitDeadline : phase === "reveal" ? round.revealDeadline : phase === "score" ? round.scoreDeadline : now;
  return end > now ? end - now : 0n;
}
