import { ProtolearnError } from "../errors.js";
import { createTestClient, http, type Address } from "viem";
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

  /** `passed`: the deadline already warped past (undefined: none, or another round). */
  private async until(what: string, done: (v: RoundView) => boolean, deadline: (v: RoundView) => bigint, passed?: (v: RoundView) => bigint | undefined): Promise<RoundView> {
    const started = Date.now();
    for (;;) {
      let view = await this.readAndNudge();
      // A reorg can take back the block that moved chain time past the previous deadline: move it again.
      const behind = passed?.(view);
      if (behind !== undefined && view.now <= behind) {
        await this.warp(behind - view.now + 1n);
        view = await this.readAndNudge();
      }
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
   * Reads the round and, when its challenge is armed but the randomness is not readable yet,
   * mines a block: a devnet with automine makes blocks only for transactions, and the committee,
   * the votes and settlement all wait for blockhash(challengeBlock).
   */
  private async readAndNudge(): Promise<RoundView> {
    const view = await readRoundView(this.ctx);
    if (view.challengeBlock > 0n && !view.randomnessReady && !view.finalized) {
      await this.test.mine({ blocks: 1 });
      return readRoundView(this.ctx);
    }
    return view;
  }

  /** How many of `trainers` hold a seat in the current round (seatDraw): the commits to wait for. */
  private async seated(trainers: readonly Address[]): Promise<number> {
    const draws = await Promise.all(trainers.map((t) => this.ctx.contracts.run.read.seatDraw([t])));
    return draws.filter(([seat]) => seat).length;
  }

  /** Distinct validators holding a seat of the current committee (zero addresses skipped). */
  private async committeeMembers(): Promise<number> {
    const seats = await this.ctx.contracts.run.read.committee();
    return new Set(seats.filter((a) => !/^0x0{40}$/i.test(a)).map((a) => a.toLowerCase())).size;
  }

  /**
   * Drives the current round to its settlement: waits for the commits (of the `trainers` that
   * hold a seat when their addresses are given, else `trainers` commits), warps past the commit
   * deadline, waits for the reveals, warps, mines until the round's randomness is readable,
   * waits for the committee's vote commits (every member, or `validators` when the committee is
   * not drawn yet), warps, waits for the vote reveals, warps past the vote-reveal deadline and
   * waits for the next round to open (a keeper settles it in batches). Returns the new round's view.
   */
  async playRound(expected: { trainers: number | readonly Address[]; validators: number }): Promise<RoundView> {
    const start = await readRoundView(this.ctx);
    const round = start.round;
    const past = (deadline: (v: RoundView) => bigint) => (v: RoundView) => (v.round === round ? deadline(v) : undefined);
    const wanted = typeof expected.trainers === "number" ? expected.trainers : await this.seated(expected.trainers);
    const committed = await this.until("commits", (v) => v.commits >= wanted, (v) => v.commitDeadline);
    await this.warp(committed.commitDeadline - committed.now + 1n);
    const revealed = await this.until("reveals", (v) => v.reveals >= committed.commits, (v) => v.revealDeadline, past((v) => v.commitDeadline));
    await this.warp(revealed.revealDeadline - revealed.now + 1n);
    const ready = await this.until("randomness", (v) => v.randomnessReady || v.reveals === 0, (v) => v.scoreDeadline, past((v) => v.revealDeadline));
    const members = ready.randomnessReady ? await this.committeeMembers() : expected.validators;
    const voted = await this.until("vote commits", (v) => v.votes >= members || v.reveals === 0, (v) => v.scoreDeadline, past((v) => v.revealDeadline));
    await this.warp(voted.scoreDeadline - voted.now + 1n);
    const unveiled = await this.until("vote reveals", (v) => v.voteReveals >= v.votes, (v) => v.voteRevealDeadline, past((v) => v.scoreDeadline));
    await this.warp(unveiled.voteRevealDeadline - unveiled.now + 1n);
    const finalizeStarted = Date.now();
    for (;;) {
      const view = await this.readAndNudge();
      if (view.round > round || view.finalized) return view;
      if (view.round === round && view.now <= view.voteRevealDeadline) await this.warp(view.voteRevealDeadline - view.now + 1n);
      if (Date.now() - finalizeStarted > this.options.patienceMs) {
        throw new ProtolearnError(`round ${round} was not settled within ${Math.round(this.options.patienceMs / 1000)} s of its vote-reveal deadline`, {
          code: "DEVNET_NOT_FINALIZED",
          fix: "no keeper settled it (finalizeRound in batches): check the validators' logs (.protolearn/devnet/logs/) for the error that stopped them",
        });
      }
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 200));
    }
  }
}
