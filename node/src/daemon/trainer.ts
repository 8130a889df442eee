import { randomBytes } from "node:crypto";
import { SingleBar } from "cli-progress";
import { bytesToHex, type Address, type Hex } from "viem";
import { commit, reveal } from "../chain/actions/index.js";
import type { SignerContext } from "../chain/client.js";
import { commitmentOf } from "../chain/commitment.js";
import type { Dataset } from "../data/dataset.js";
import type { Model } from "../model/model.js";
import type { Logger } from "../observe/logger.js";
import type { MetricsRegistry } from "../observe/metrics.js";
import { NO_TIMING, trainingTimer, type PartTimer } from "../observe/round-timing.js";
import { trainUpdate, type RoundRunParams } from "../round/index.js";
import type { BlobStore } from "../storage/index.js";
import { applyAdversary, type Adversary } from "./adversary.js";
import type { ModelSync } from "../sync/model-sync.js";
import type { NodeState } from "../sync/node-state.js";
import type { ParamsHistory } from "../history/params-history.js";
import type { RoundView } from "../run/round-view.js";

export interface TrainerOptions {
  ctx: SignerContext;
  state: NodeState;
  sync: ModelSync;
  params: ParamsHistory;
  store: BlobStore;
  model: Model;
  dataset: Dataset;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Charges training, encoding (and, through the store and sender, IPFS and chain) time to the round. */
  timer?: PartTimer;
  adversary: Adversary;
  signal?: AbortSignal;
  /** Draw a progress bar of the inner steps on stderr (a terminal with readable logs). */
  progress?: boolean;
}

/**
 * The trainer's side of a round. Order matters for crash safety: the update is trained,
 * stored on IPFS and persisted with its salt BEFORE the commit transaction; the chain's record
 * (memberOf) decides whether a commit or reveal already happened, so a restart in any phase
 * re-sends nothing twice and reveals exactly what was committed.
 */
export class TrainerRole {
  /** Last round whose missed commit was already reported (one warning, not one per tick). */
  private missedRound = 0;
  /** Last round found without a seat (reported once; the node does not train in it). */
  private seatlessRound = 0;

  constructor(private readonly o: TrainerOptions) {}

  private get address(): Address {
    return this.o.ctx.account.address;
  }

  async step(view: RoundView): Promise<void> {
    const { ctx, state, logger } = this.o;
    const log = logger.child("trainer", { round: view.round });
    let pending = state.pending;

    if (view.phase === "commit" && (pending === null || pending.round < view.round)) {
      const member = await ctx.contracts.run.read.memberOf([this.address]);
      if (Number(member.activeRound) === view.round) {
        log.warn("already committed on chain without local record; skipping this round");
        return;
      }
      if (this.seatlessRound === view.round) return;
      if (!(await this.hasSeat(view, member))) {
        this.seatlessRound = view.round;
        // Keep the model current anyway: a later seat round starts from it at once, and a node
        // that holds a model the chain never agreed on stops now, not when it wins a seat.
        await this.o.sync.ensure(view.round);
        return;
      }
      pending = await this.prepare(view);
    }
    if (pending === null || pending.round !== view.round) return;

    if (!pending.committed && view.phase !== "commit") {
      // A crash between the commit transaction and recording it: the chain knows.
      const member = await ctx.contracts.run.read.memberOf([this.address]);
      if (Number(member.activeRound) === view.round) {
        await state.markPending({ committed: true });
        pending = { ...pending, committed: true };
        log.info("recovered a commit the chain recorded before the node stopped");
      }
    }

    // The chain, not the local record, says whether the commit or reveal is in: a reorg can drop
    // a mined transaction, so while its phase lasts the node checks each tick and re-sends the
    // same commitment or reveal (the contract refuses a second commit of the round).
    if (view.phase === "commit") {
      const member = await ctx.contracts.run.read.memberOf([this.address]);
      if (Number(member.activeRound) !== view.round) {
        if (pending.committed) log.warn("the commit is no longer on chain (a reorg dropped it): sending it again");
        const commitment = commitmentOf({
          runId: ctx.runId,
          round: view.round,
          node: this.address,
          cid: pending.cid,
          contentHash: pending.contentHash as Hex,
          samples: pending.samples,
          salt: pending.salt as Hex,
        });
        const sent = await commit(ctx, { round: view.round, commitment });
        log.info("committed", { cid: pending.cid, gasUsed: sent.gasUsed });
      }
      if (!pending.committed) await state.markPending({ committed: true });
    } else if (view.phase === "reveal" && pending.committed) {
      const member = await ctx.contracts.run.read.memberOf([this.address]);
      if (Number(member.revealedRound) !== view.round) {
        if (pending.revealed) log.warn("the reveal is no longer on chain (a reorg dropped it): sending it again");
        const sent = await reveal(ctx, {
          round: view.round,
          cid: pending.cid,
          contentHash: pending.contentHash as Hex,
          samples: pending.samples,
          salt: pending.salt as Hex,
        });
        log.info("revealed", { cid: pending.cid, gasUsed: sent.gasUsed });
      }
      if (!pending.revealed) await state.markPending({ revealed: true });
    } else if (!pending.committed && this.missedRound !== view.round) {
      this.missedRound = view.round;
      log.warn("missed the commit deadline; skipping this round");
    }
  }

  /**
   * Whether the node may commit in this round (`seatDraw`, the contract's lottery), read before
   * any training: a node without a seat would train for nothing and its commit would revert.
   * Logs why not: its lock counts only from a later round, its lock is below the current
   * minimum (raise it), or it lost the stake-weighted lottery this round.
   */
  private async hasSeat(view: RoundView, member: { lock: bigint; eligibleFrom: bigint }): Promise<boolean> {
    const { ctx, logger, metrics } = this.o;
    const log = logger.child("trainer", { round: view.round });
    const [seat, draw, threshold] = await ctx.contracts.run.read.seatDraw([this.address]);
    metrics.set("protolearn_seat_draw_ppm", "This trainer's seat lottery draw in the current round (ppm; a seat needs draw < threshold)", Number(draw));
    metrics.set("protolearn_seat_threshold_ppm", "The seat lottery threshold of this trainer's lock in the current round (ppm)", Number(threshold));
    if (seat) {
      log.info("seat won", { draw: Number(draw), threshold: Number(threshold) });
      return true;
    }
    if (member.eligibleFrom === 0n || member.eligibleFrom > BigInt(view.round)) {
      log.info("no seat: not eligible until round " + member.eligibleFrom.toString(), {
        reason: "not-eligible",
        eligibleFrom: Number(member.eligibleFrom),
        detail: "a lock counts in a draw only from the round after the one it was made or raised in (before that round's commit deadline)",
      });
      return false;
    }
    const params = await ctx.contracts.run.read.params();
    if (member.lock < params.minTrainerStake) {
      log.warn("no seat: stale lock", {
        reason: "stale-lock",
        lock: member.lock.toString(),
        minTrainerStake: params.minTrainerStake.toString(),
        fix: "raise the lock to the run's minTrainerStake (raiseLock) to take seats again",
      });
      return false;
    }
    log.info("no seat: lost the lottery", { reason: "lost-lottery", draw: Number(draw), threshold: Number(threshold) });
    return false;
  }

  /** Trains on the round's model, stores the update, persists it with a fresh salt. */
  private async prepare(view: RoundView) {
    const { state, sync, params, store, model, dataset, logger, metrics, adversary } = this.o;
    const log = logger.child("trainer", { round: view.round });
    const held = await sync.ensure(view.round);
    const runParams = fitting(adversary, await params.at(view.round));
    const residual = await state.loadResidual();
    log.info("training", { steps: runParams.innerSteps, batch: runParams.batchSize });
    const bar = this.o.progress
      ? new SingleBar({ format: `round ${view.round} training [{bar}] {value}/{total} steps`, stream: process.stderr, clearOnComplete: true })
      : undefined;
    bar?.start(runParams.innerSteps, 0);
    const timer = this.o.timer ?? NO_TIMING;
    const clock = trainingTimer(timer, metrics);
    const result = await trainUpdate({
      model,
      dataset,
      globalParams: held.params,
      seed: view.seed,
      node: this.address,
      round: view.round,
      params: runParams,
      residual: residual !== null && residual.length === held.params.length ? residual : null,
      ...(this.o.signal ? { signal: this.o.signal } : {}),
      onStep: (done: number, total: number) => {
        clock.onStep(done, total);
        bar?.update(done);
      },
    }).finally(() => {
      clock.end();
      bar?.stop();
    });
    const previousAggregate = adversary.strategy === "replay" ? await sync.previousAggregate(view.round) : undefined;
    const update = timer.measure("encoding", () =>
      applyAdversary(adversary, result.bytes, { model, params: runParams, round: view.round, seed: view.round, previousAggregate }),
    );
    const cid = await store.put(update.bytes);
    const pending = {
      round: view.round,
      salt: bytesToHex(randomBytes(32)),
      cid,
      contentHash: update.contentHash,
      samples: result.samples,
      committed: false,
      revealed: false,
    };
    await state.savePending(pending, result.residual);
    metrics.set("protolearn_train_loss", "Mean inner-loop training loss of the last round", result.trainLoss);
    metrics.inc("protolearn_bytes_sent_total", "Bytes of updates put on IPFS", update.bytes.length);
    log.info("update stored", { cid, bytes: update.bytes.length, trainLoss: Number(result.trainLoss.toFixed(4)), adversary: adversary.strategy });
    return pending;
  }
}

/**
 * The testing-only `fit-validation` adversary trains 4× the steps at 3× the learning rate on its
 * assigned shard (the examples its validation batch is drawn from); everyone else trains as the
 * run says.
 */
function fitting(adversary: Adversary, params: RoundRunParams): RoundRunParams {
  if (adversary.strategy !== "fit-validation") return params;
  return { ...params, innerSteps: 4 * params.innerSteps, innerLearningRate: 3 * params.innerLearningRate };
}
