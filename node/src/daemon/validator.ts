import { randomBytes } from "node:crypto";
import { bytesToHex, keccak256, type Address, type Hex } from "viem";
import { announceCheckpoint, armChallenge, commitVote, revealVote } from "../chain/actions/index.js";
import { voteCommitmentOf } from "../chain/commitment.js";
import { NO_TIMING } from "../observe/round-timing.js";
import { encodeCheckpoint } from "../run/checkpoint.js";
import { heldSeats, voteShape } from "../run/committee.js";
import { evaluate } from "../train/evaluate.js";
import { decodeRoundUpdate, roundDecodeRules } from "../round/index.js";
import { UpdateIndex, validateRound } from "../validate/index.js";
import type { PendingVote } from "../sync/node-state.js";
import type { Adversary } from "./adversary.js";
import type { RoleDeps, RoundRole } from "./daemon.js";
import type { RoundView } from "../run/round-view.js";

/** Held-out loss goes on chain 1e9-scaled (uint64). */
export const EVAL_LOSS_SCALE = 1e9;

/**
 * The validator's side of a round (docs/validation.md, "Committees and blind votes"):
 *
 * - score phase: wait for the round's randomness (arming the challenge if nobody did), read the
 *   committee; a validator without a seat does nothing. A member holds M_r (model sync builds it
 *   from round r − 1's on-chain accepted set: node/src/sync/model-chain.ts), fetches, checks and
 *   scores only the updates assigned to its seats (`assignedTo(seat)`), attests hash(M_r) and
 *   M_r's held-out loss (lagged attestation: no aggregation in the vote, no accept test on the
 *   other updates), persists the vote with a fresh salt and only then sends `commitVote`;
 * - vote-reveal phase: sends `revealVote` with exactly what it persisted.
 *
 * The chain's record (`memberOf`: activeRound = last round it committed a vote in,
 * revealedRound = last round it revealed in) makes every step idempotent after a kill -9.
 */
export class ValidatorRole implements RoundRole {
  /** Last round reported as "not on the committee" / "waiting for randomness" (one log line each). */
  private reported = new Map<string, number>();
  /** The block the validator has been waiting at for the randomness, and since when (ms). */
  private waitingAt: { block: bigint; since: number } | undefined;
  /** The run's earlier accepted updates (P6), opened on first use. */
  private index: UpdateIndex | undefined;

  constructor(
    private readonly d: RoleDeps,
    /** TESTING ONLY: a validator adversary of the red team; "none" otherwise. */
    private readonly adversary: Adversary = { strategy: "none", factor: 10 },
  ) {
    // The run's accepted updates, as model sync fetches them to build the next model, are the
    // public work an update must not copy (P6): every member indexes the same on-chain set.
    d.sync.onAcceptedUpdates(async (round, updates) => {
      if (updates.length === 0) return;
      const params = await d.params.at(round);
      const decoded = updates.map((u) => ({ node: u.node, update: decodeRoundUpdate(u.bytes, { model: d.model, params, round }) }));
      await (await this.updateIndex()).record(round, decoded);
    });
  }

  private once(what: string, round: number): boolean {
    if (this.reported.get(what) === round) return false;
    this.reported.set(what, round);
    return true;
  }

  private get address(): Address {
    return this.d.ctx.account.address;
  }

  async step(view: RoundView): Promise<void> {
    if (view.phase === "score") await this.scorePhase(view);
    else if (view.phase === "vote-reveal" || view.phase === "finalizable") await this.revealPhase(view);
  }

  private async scorePhase(view: RoundView): Promise<void> {
    const { ctx, state, logger } = this.d;
    const log = logger.child("validator", { round: view.round });
    const persisted = state.vote;
    if (persisted !== null && persisted.round === view.round) {
      // The chain says whether commitVote is in: after a crash between persisting the vote and
      // recording the commit, or after a reorg that dropped a mined commit (checked each tick).
      const member = await ctx.contracts.run.read.memberOf([this.address]);
      if (Number(member.activeRound) === view.round) {
        if (!persisted.committed) {
          await state.markVote({ committed: true });
          log.info("recovered a vote commit the chain recorded before the node stopped");
        }
        return;
      }
      if (persisted.committed) log.warn("the vote commit is no longer on chain (a reorg dropped it): sending it again");
      await this.sendCommit(view, persisted);
      return;
    }
    if (state.scoredRound >= view.round) return;
    if (view.reveals === 0) {
      if (this.once("empty", view.round)) log.info("no reveals to score: no vote this round");
      await state.markScored(view.round);
      return;
    }

    if (!view.randomnessReady) {
      // Not armed yet: arm it. Armed but no block since (a devnet mines only for transactions):
      // after a few seconds at the same block, send armChallenge again, which mines the block
      // the randomness needs (on a live chain blocks come on their own and this never fires).
      if (this.waitingAt?.block !== view.block) this.waitingAt = { block: view.block, since: Date.now() };
      const stalled = view.challengeBlock !== 0n && view.block >= view.challengeBlock && Date.now() - this.waitingAt.since > 3_000;
      if (view.challengeBlock === 0n || stalled) {
        try {
          await armChallenge(ctx, { round: view.round });
          log.info("armed the round's challenge (its randomness is readable from the next block)");
        } catch (err) {
          log.debug("armChallenge skipped", { error: err instanceof Error ? err.message : String(err) });
        }
      } else if (this.once("randomness", view.round)) {
        log.info("waiting for the round's randomness", { challengeBlock: Number(view.challengeBlock) });
      }
      return;
    }

    const [committee, member] = await Promise.all([
      ctx.contracts.run.read.committee({ blockNumber: view.block }),
      ctx.contracts.run.read.memberOf([this.address], { blockNumber: view.block }),
    ]);
    const seats = heldSeats(committee, this.address);
    if (seats.length === 0) {
      if (this.once("committee", view.round)) log.info("not on this round's committee: nothing to score", { committee: committee.length });
      await state.markScored(view.round);
      return;
    }
    if (Number(member.activeRound) === view.round) {
      // Committed on chain but the persisted vote is gone (state folder replaced): it cannot be revealed.
      log.error("this validator committed a vote in this round but holds no record of it: the vote cannot be revealed and will be slashed (VoteNotRevealed)");
      await state.markScored(view.round);
      return;
    }
    const vote = await this.buildVote(view, seats);
    if (this.adversary.strategy !== "none") log.warn("TESTING ONLY: this validator misbehaves on purpose", { adversary: this.adversary.strategy });
    await state.saveVote(vote);
    await this.sendCommit(view, vote);
  }

  private async sendCommit(view: RoundView, vote: PendingVote): Promise<void> {
    const { ctx, state, logger } = this.d;
    const commitment = voteCommitmentOf({
      runId: ctx.runId,
      round: vote.round,
      validator: this.address,
      seatLengths: vote.seatLengths,
      scores: vote.scores,
      modelHash: vote.modelHash as Hex,
      evalLoss: BigInt(vote.evalLoss),
      salt: vote.salt as Hex,
    });
    const sent = await commitVote(ctx, { round: view.round, commitment });
    await state.markVote({ committed: true });
    logger.child("validator", { round: view.round }).info("vote committed", { seats: vote.seatLengths.length, scores: vote.scores.length, modelHash: vote.modelHash, gasUsed: sent.gasUsed });
  }

  private async revealPhase(view: RoundView): Promise<void> {
    const { ctx, state, logger } = this.d;
    const vote = state.vote;
    if (vote === null || vote.round !== view.round) return;
    if (vote.revealed && view.phase === "finalizable") return;
    if (view.phase === "finalizable") {
      if (!vote.committed) return;
      if (this.once("late", view.round)) logger.child("validator", { round: view.round }).warn("missed the vote-reveal deadline: the committed vote will be slashed (VoteNotRevealed)");
      return;
    }
    const log = logger.child("validator", { round: view.round });
    const member = await ctx.contracts.run.read.memberOf([this.address]);
    if (Number(member.revealedRound) === view.round) {
      if (!vote.revealed) {
        await state.markVote({ revealed: true });
        await state.markScored(view.round);
        log.info("recovered a vote reveal the chain recorded before the node stopped");
      }
      return;
    }
    if (vote.revealed) log.warn("the vote reveal is no longer on chain (a reorg dropped it): sending it again");
    if (Number(member.activeRound) !== view.round) return; // the commit never landed: nothing to reveal
    if (!vote.committed) await state.markVote({ committed: true }); // killed between the commit and recording it
    const sent = await revealVote(ctx, {
      round: view.round,
      seatLengths: vote.seatLengths,
      scores: vote.scores,
      modelHash: vote.modelHash as Hex,
      evalLoss: BigInt(vote.evalLoss),
      salt: vote.salt as Hex,
    });
    await state.markVote({ revealed: true });
    await state.markScored(view.round);
    log.info("vote revealed", { modelHash: vote.modelHash, gasUsed: sent.gasUsed });
  }

  /**
   * Holds M_r, fetches and judges only the updates assigned to `seats` (validation batches from
   * the round's randomness, each update judged on its own), and shapes the vote: their scores,
   * hash(M_r) and M_r's held-out loss.
   */
  private async buildVote(view: RoundView, seats: number[]): Promise<PendingVote> {
    const { ctx, sync, rounds, params, store, model, dataset, logger, metrics, config, signal } = this.d;
    const timer = this.d.timer ?? NO_TIMING;
    const log = logger.child("validator", { round: view.round });
    const held = await sync.ensure(view.round);
    const reveals = await rounds.reveals(view.round);
    const runParams = await params.at(view.round);
    const onChain = await ctx.contracts.run.read.params();
    const assigned = new Map<number, number[]>();
    for (const seat of seats) {
      const indices = await ctx.contracts.run.read.assignedTo([BigInt(seat)], { blockNumber: view.block });
      assigned.set(seat, indices.map(Number));
    }
    const mine = new Set([...assigned.values()].flat());
    const publicWork = await this.publicWork(view.round);
    const copying = this.adversary.strategy === "vote-copy";
    const validation =
      mine.size === 0 || copying
        ? undefined
        : await timer.measure("scoring", () =>
            validateRound({
              store,
              model,
              dataset,
              globalParams: held.params,
              seed: view.seed,
              challenge: view.randomness,
              reveals,
              only: mine,
              caps: roundDecodeRules(model.spec, runParams, view.round),
              timeoutMs: config.fetchTimeoutMs,
              acceptScorePpm: onChain.acceptScorePpm,
              numShards: runParams.numShards,
              ...publicWork,
              signal,
            }),
          );
    for (const verdict of validation?.verdicts ?? []) {
      log.info("scored", {
        index: verdict.index,
        node: verdict.node,
        score: verdict.scorePpm,
        reason: verdict.reason,
        accepted: verdict.accepted,
      });
    }
    metrics.set("protolearn_updates_assigned", "Revealed updates assigned to this validator's committee seats in the last round", mine.size);
    const evaluation = timer.measure("scoring", () => evaluate(model, held.params, dataset, { split: "eval" }));
    const evalLoss = BigInt(Math.round(evaluation.loss * EVAL_LOSS_SCALE));
    const scoreByIndex = new Map((validation?.verdicts ?? []).map((v) => [v.index, v.scorePpm]));
    if (this.adversary.strategy !== "none") await this.misbehave(view.round, reveals, mine, scoreByIndex);
    const { seatLengths, scores } = voteShape(seats, (seat) => assigned.get(seat) ?? [], (index) => scoreByIndex.get(index) ?? 0);
    await this.announceCheckpoint(view.round, held, onChain.checkpointEvery);
    metrics.set("protolearn_eval_loss", "Held-out loss of the model this validator attested (M_r)", evaluation.loss);
    metrics.set("protolearn_eval_accuracy", "Held-out accuracy of the model this validator attested (M_r)", evaluation.accuracy);
    log.info("vote ready", {
      seats,
      assigned: mine.size,
      of: reveals.length,
      modelHash: held.hash,
      evalLoss: Number(evaluation.loss.toFixed(4)),
      accuracy: Number(evaluation.accuracy.toFixed(4)),
    });
    return {
      round: view.round,
      salt: bytesToHex(randomBytes(32)),
      seatLengths,
      scores,
      modelHash: this.adversary.strategy === "withhold" ? keccak256(held.hash) : held.hash,
      evalLoss: evalLoss.toString(),
      committed: false,
      revealed: false,
    };
  }

  /**
   * The testing-only validator adversaries (daemon/adversary.ts) rewrite the scores: `vote-copy`
   * fills in, unscored, each trainer's median of the previous round; `collude-zero` scores its
   * target 0. (`withhold` changes the attested hash instead; `split-stake` validates honestly.)
   */
  private async misbehave(round: number, reveals: readonly { index: number; node: Address }[], mine: ReadonlySet<number>, scores: Map<number, number>): Promise<void> {
    const { strategy, target } = this.adversary;
    if (strategy === "collude-zero" && target !== undefined) {
      for (const r of reveals) if (mine.has(r.index) && r.node.toLowerCase() === target.toLowerCase()) scores.set(r.index, 0);
    }
    if (strategy === "vote-copy") {
      const previous = await this.d.rounds.medians(round - 1);
      for (const r of reveals) if (mine.has(r.index)) scores.set(r.index, previous.get(r.node.toLowerCase()) ?? 500_000);
    }
  }

  private async updateIndex(): Promise<UpdateIndex> {
    this.index ??= await UpdateIndex.open(this.d.state.dir);
    return this.index;
  }

  /**
   * What is public before round `round`: the last aggregate and the run's earlier accepted updates
   * (P6), and the reference norm scoring caps update norms against (the latest accepted set's median).
   */
  private async publicWork(
    round: number,
  ): Promise<{ previousAggregate?: Float32Array; earlier: ReturnType<UpdateIndex["before"]>; referenceNorm?: number }> {
    const previousAggregate = await this.d.sync.previousAggregate(round);
    const index = await this.updateIndex();
    const earlier = index.before(round);
    const referenceNorm = index.referenceNorm(round);
    return {
      earlier,
      ...(previousAggregate === undefined ? {} : { previousAggregate }),
      ...(referenceNorm === undefined ? {} : { referenceNorm }),
    };
  }

  /**
   * Every `checkpointEvery` rounds, the first validator to get there puts M_round (and the
   * momentum) on IPFS and announces it, so late joiners need not replay the whole run.
   */
  private async announceCheckpoint(
    round: number,
    held: { params: Float32Array; momentum: Float32Array | undefined },
    every: number,
  ): Promise<void> {
    const { ctx, rounds, store, model, logger } = this.d;
    if (every <= 0 || round % every !== 0) return;
    if ((await rounds.checkpoints(round)).some((c) => c.round === round)) return;
    const checkpoint = (this.d.timer ?? NO_TIMING).measure("encoding", () => encodeCheckpoint(model.spec, held.params, held.momentum));
    const cid = await store.put(checkpoint);
    await announceCheckpoint(ctx, { round, cid });
    logger.child("validator", { round }).info("checkpoint announced", { cid });
  }
}

/** The factory the daemon takes. */
export function validatorRole(deps: RoleDeps, adversary: Adversary = { strategy: "none", factor: 10 }): RoundRole {
  return new ValidatorRole(deps, adversary);
}
