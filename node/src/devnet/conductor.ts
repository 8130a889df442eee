import { ProtolearnError } from "../errors.js";
import { createTestClient, http } from "viem";
import type { ChainContext } from "../chain/client.js";
import { readRoundView, type RoundView } from "../run/round-view.js";
import type { Logger } from "../observe/logger.js";

/**
 * Devnet time warp. On a local chain nobody should wait out a 10-minute phase once every node
 * has acted, so the conductor moves chain time to the phase's deadline as soon as all expected
 * commits / reveals / votes are in (or after `patienceMs` of real time, so a crashed node
 * cannot stall the demo). Nodes read time from the chain, so they follow. Never used on a
 * public network: phases there run on real time.
 */
export class Conductor {
  private readonly test;

  constructor(
    private readonly ctx: ChainContext,
    rpcUrl: string,
    private readonly logger: Logger,
    private readonly options: { patienceMs: number; pollMs?: number; mode?: "hardhat" | "anvil" },
  ) {
    this.test = createTestClient({ mode: options.mode ?? "hardhat", transport: http(rpcUrl) });
  }

  /** Mines `blocks` blocks (governance voting periods are counted in blocks). */
  async mine(blocks: number): Promise<void> {
    await this.test.mine({ blocks });
  }

  /** Moves chain time forward `seconds` and mines a block. */
  async warp(seconds: bigint): Promise<void> {
    if (seconds > 0n) await this.test.increaseTime({ seconds: Number(seconds) });
    await this.test.mine({ blocks: 1 });
  }

  private async until(what: string, done: (v: RoundView) => boolean, deadline: (v: RoundView) => bigint): Promise<RoundView> {
    const started = Date.now();
    for (;;) {
      const view = await readRoundView(this.ctx);
      if (done(view) || view.phase === "halted") return view;
      if (Date.now() - started > this.options.patienceMs) {
        this.logger.warn("conductor: not every node acted in time; moving on", { round: view.round, waitingFor: what });
        return view;
      }
      if (view.now > deadline(view)) return view;
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 200));
    }
  }

  /**
   * Drives the current round to its finalize: waits for `trainers` commits, warps past the
   * commit deadline, waits for the reveals, warps, waits for `validators` votes, warps, and
   * waits for the next round to open (a keeper finalizes it). Returns the new round's view.
   */
  async playRound(expected: { trainers: number; validators: number }): Promise<RoundView> {
    const start = await readRoundView(this.ctx);
    const round = start.round;
    const committed = await this.until("commits", (v) => v.commits >= expected.trainers, (v) => v.commitDeadline);
    await this.warp(committed.commitDeadline - committed.now + 1n);
    const revealed = await this.until("reveals", (v) => v.reveals >= committed.commits, (v) => v.revealDeadline);
    await this.warp(revealed.revealDeadline - revealed.now + 1n);
    const voted = await this.until("votes", (v) => v.votes >= expected.validators || v.reveals === 0, (v) => v.scoreDeadline);
    await this.warp(voted.scoreDeadline - voted.now + 1n);
    const finalizeStarted = Date.now();
    for (;;) {
      const view = await readRoundView(this.ctx);
      if (view.round > round || view.finalized) return view;
      if (Date.now() - finalizeStarted > this.options.patienceMs) {
        throw new ProtolearnError(`round ${round} was not finalized within ${Math.round(this.options.patienceMs / 1000)} s of its score deadline`, {
          code: "DEVNET_NOT_FINALIZED",
          fix: "no keeper finalized it: check the validators' logs (.protolearn/devnet/logs/) for the error that stopped them",
        });
      }
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 200));
    }
  }
}
