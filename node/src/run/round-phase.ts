/**
 * The node's mirror of the run contract's round state machine (contracts/run/TrainingRun.sol
 * `phase()`). The contract is the source of truth; this module is the one place the node names
 * the phases and derives a phase from a round's deadlines and flags, and
 * test/contracts/RoundPhaseMirror.test.ts checks it against the contract's `phase()` at every
 * deadline and through pause, resume and halt.
 *
 *   commit       while now <= commitDeadline                      (eligible trainers with a seat commit)
 *   reveal       while commitDeadline < now <= revealDeadline     (trainers reveal; the challenge is armed)
 *   score        while revealDeadline < now <= scoreDeadline      (committee members commit their votes)
 *   vote-reveal  while scoreDeadline < now <= voteRevealDeadline  (committee members reveal their votes)
 *   finalizable  after voteRevealDeadline, until the round is settled (finalizeRound in batches)
 * A pause or a halt acts only between rounds (G3): the open round keeps its phases and settles in
 * full, and only once it is finalized does the run show as paused (the next round opens at
 * unpause) or halted (no round opens again). A finalized round is the current one only then: the
 * contract opens the next round in the finalize transaction otherwise.
 */

/** The contract's `ITrainingRun.Phase` enum, in its order: index = the enum's uint8 value. */
export const ROUND_PHASES = ["commit", "reveal", "score", "vote-reveal", "finalizable", "paused", "halted"] as const;

export type RoundPhase = (typeof ROUND_PHASES)[number];

export interface RoundDeadlines {
  commitDeadline: bigint;
  revealDeadline: bigint;
  scoreDeadline: bigint;
  voteRevealDeadline: bigint;
}

/**
 * What the phase depends on besides the clock: the round's deadlines, whether it is finalized,
 * and the run's flags (`paused` alone never changes the phase; it says the next round waits).
 */
export interface RoundStatus extends RoundDeadlines {
  paused: boolean;
  halted: boolean;
  finalized: boolean;
}

/** The phase of `round` at chain time `now` (a block timestamp), exactly as the contract computes it. */
export function phaseAt(round: RoundStatus, now: bigint): RoundPhase {
  if (round.finalized) return round.halted ? "halted" : "paused";
  if (now <= round.commitDeadline) return "commit";
  if (now <= round.revealDeadline) return "reveal";
  if (now <= round.scoreDeadline) return "score";
  if (now <= round.voteRevealDeadline) return "vote-reveal";
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
    phase === "commit"
      ? round.commitDeadline
      : phase === "reveal"
        ? round.revealDeadline
        : phase === "score"
          ? round.scoreDeadline
          : phase === "vote-reveal"
            ? round.voteRevealDeadline
            : now;
  return end > now ? end - now : 0n;
}
