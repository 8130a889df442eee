import type { Hex } from "viem";
import type { ChainContext } from "../chain/client.js";
import { phaseAt, type RoundPhase, type RoundStatus } from "./round-phase.js";

/** One consistent read of the run's current round (all at one block), with the phase at that block's time. */
export interface RoundView extends RoundStatus {
  round: number;
  phase: RoundPhase;
  /** Chain time: the timestamp of the block that was read. */
  now: bigint;
  /** The block every field was read at. */
  block: bigint;
  /** seed_r: the data shards (fixed before the round opened). */
  seed: Hex;
  modelHash: Hex;
  commits: number;
  reveals: number;
  /** Committee members that committed a vote. */
  votes: number;
  /** Committee members that revealed their vote. */
  voteReveals: number;
  /** 0 until the first transaction after the commit deadline arms the challenge. */
  challengeBlock: bigint;
  /** Whether `randomness` (rand_r) is fixed: the committee, the assignment and the validation batches derive from it. */
  randomnessReady: boolean;
  /** rand_r (zero until ready). */
  randomness: Hex;
  /** Settlement items done (reveals, then committers). */
  settled: number;
}

export async function readRoundView(ctx: ChainContext): Promise<RoundView> {
  const run = ctx.contracts.run;
  const block = await ctx.publicClient.getBlock({ blockTag: "latest" });
  const at = { blockNumber: block.number };
  const [info, paused, halted] = await Promise.all([run.read.currentRound(at), run.read.paused(at), run.read.halted(at)]);
  const status: RoundStatus = {
    commitDeadline: info.commitDeadline,
    revealDeadline: info.revealDeadline,
    scoreDeadline: info.scoreDeadline,
    voteRevealDeadline: info.voteRevealDeadline,
    finalized: info.finalized,
    paused,
    halted,
  };
  return {
    round: Number(info.round),
    phase: phaseAt(status, block.timestamp),
    now: block.timestamp,
    block: block.number,
    ...status,
    seed: info.seed,
    modelHash: info.modelHash,
    commits: info.commits,
    reveals: info.reveals,
    votes: info.votes,
    voteReveals: info.voteReveals,
    challengeBlock: info.challengeBlock,
    randomnessReady: info.randomnessReady,
    randomness: info.randomness,
    settled: info.settled,
  };
}
