import type { Hex } from "viem";
import type { ChainContext } from "../chain/client.js";
import { phaseAt, type RoundPhase } from "./round-phase.js";

/** One consistent read of the run's current round, with the phase at chain time. */
export interface RoundView {
  round: number;
  phase: RoundPhase;
  /** Chain time: the latest block's timestamp. */
  now: bigint;
  commitDeadline: bigint;
  revealDeadline: bigint;
  scoreDeadline: bigint;
  seed: Hex;
  modelHash: Hex;
  commits: number;
  reveals: number;
  votes: number;
  finalized: boolean;
  paused: boolean;
  halted: boolean;
}

export async function readRoundView(ctx: ChainContext): Promise<RoundView> {
  const run = ctx.contracts.run;
  const [block, info, paused, halted] = await Promise.all([
    ctx.publicClient.getBlock({ blockTag: "latest" }),
    run.read.currentRound(),
    run.read.paused(),
    run.read.halted(),
  ]);
  const deadlines = { commitDeadline: info.commitDeadline, revealDeadline: info.revealDeadline, scoreDeadline: info.scoreDeadline };
  return {
    round: Number(info.round),
    phase: info.finalized && !halted ? "paused" : phaseAt(deadlines, { paused, halted }, block.timestamp),
    now: block.timestamp,
    ...deadlines,
    seed: info.seed,
    modelHash: info.modelHash,
    commits: info.commits,
    reveals: info.reveals,
    votes: info.votes,
    finalized: info.finalized,
    paused,
    halted,
  };
}
