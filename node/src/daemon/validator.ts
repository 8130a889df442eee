import type { Hex } from "viem";
import { announceCheckpoint, submitScores } from "../chain/actions/index.js";
import { NO_TIMING } from "../observe/round-timing.js";
import { encodeCheckpoint } from "../run/checkpoint.js";
import { evaluate } from "../train/evaluate.js";
import { nextModel, roundDecodeRules } from "../round/index.js";
import { validateRound } from "../validate/index.js";
import type { RoleDeps, RoundRole } from "./daemon.js";
import type { RoundView } from "../run/round-view.js";

/** Held-out loss goes on chain 1e9-scaled (uint64). */
export const EVAL_LOSS_SCALE = 1e9;

/**
 * The validator's side of a round, in the score phase: fetch every revealed update (bounded
 * time and bytes), check it against its content hash, decode and score it (node/src/validate),
 * aggregate the accepted set with the same round engine every node uses, measure the new
 * model's held-out loss, and submit scores + model hash + loss once. The chain's record
 * (memberOf.activeRound) makes a restart skip a round it already scored.
 */
export class ValidatorRole implements RoundRole {
  constructor(private readonly d: RoleDeps) {}

  async step(view: RoundView): Promise<void> {
    const { ctx, state, sync, rounds, params, store, model, dataset, logger, metrics, config, signal } = this.d;
    const timer = this.d.timer ?? NO_TIMING;
    if (view.phase !== "score" || state.scoredRound >= view.round) return;
    const log = logger.child("validator", { round: view.round });
    const member = await ctx.contracts.run.read.memberOf([ctx.account.address]);
    if (Number(member.activeRound) === view.round) {
      await state.markScored(view.round);
      return;
    }
    const reveals = await rounds.reveals(view.round);
    if (reveals.length === 0) {
      log.info("no reveals to score");
      await state.markScored(view.round);
      return;
    }
    const held = await sync.ensure(view.round, view.modelHash);
    const runParams = await params.at(view.round);
    const onChain = await ctx.contracts.run.read.params();
    const validation = await timer.measure("scoring", () => validateRound({
      store,
      model,
      dataset,
      globalParams: held.params,
      seed: view.seed,
      reveals,
      caps: roundDecodeRules(model.spec, runParams, view.round),
      timeoutMs: config.fetchTimeoutMs,
      acceptScorePpm: onChain.acceptScorePpm,
      numShards: runParams.numShards,
      signal,
    }));
    for (const verdict of validation.verdicts) {
      log.info("scored", { node: verdict.node, score: verdict.scorePpm, reason: verdict.reason, accepted: verdict.accepted });
    }
    let modelHash: Hex = held.hash;
    let evalParams = held.params;
    if (validation.accepted.length > 0) {
      const next = timer.measure("aggregation", () => nextModel({
        model,
        globalParams: held.params,
        momentum: held.momentum,
        updates: validation.accepted.map((a) => ({ node: a.node, bytes: a.bytes, samples: Number(a.samples) })),
        params: runParams,
        round: view.round,
      }));
      modelHash = next.modelHash;
      evalParams = next.params;
      sync.offer({ round: view.round + 1, hash: next.modelHash, params: next.params, momentum: next.momentum });
    }
    const evaluation = timer.measure("scoring", () => evaluate(model, evalParams, dataset, { split: "eval" }));
    const evalLoss = BigInt(Math.round(evaluation.loss * EVAL_LOSS_SCALE));
    const sent = await submitScores(ctx, { round: view.round, scores: validation.scores, modelHash, evalLoss });
    await state.markScored(view.round);
    await this.announceCheckpoint(view.round, held, onChain.checkpointEvery);
    metrics.set("protolearn_eval_loss", "Held-out loss of the model this validator attested", evaluation.loss);
    metrics.set("protolearn_eval_accuracy", "Held-out accuracy of the model this validator attested", evaluation.accuracy);
    log.info("scores submitted", {
      accepted: validation.accepted.length,
      of: reveals.length,
      modelHash,
      evalLoss: Number(evaluation.loss.toFixed(4)),
      accuracy: Number(evaluation.accuracy.toFixed(4)),
      gasUsed: sent.gasUsed,
    });
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
export function validatorRole(deps: RoleDeps): RoundRole {
  return new ValidatorRole(deps);
}
