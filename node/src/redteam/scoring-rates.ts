import { keccak256, stringToBytes, type Address, type Hex } from "viem";

import { medianNorm, updateNorm } from "../aggregate/update-norm.js";
import { toDense } from "../codec/index.js";
import { applyAdversary, type Adversary } from "../daemon/adversary.js";
import type { Dataset } from "../data/dataset.js";
import type { Model } from "../model/model.js";
import { validationBatchSize } from "../model/registry.js";
import { decodeRoundUpdate, nextModel, trainUpdate, type RoundRunParams, type RoundUpdate } from "../round/index.js";
import { simNodeAddress, simRoundSeed } from "../round/sim/sim-seeds.js";
import { genesisModel } from "../run/genesis.js";
import { scoreUpdate, type ScoreVerdict } from "../validate/index.js";

/** The update kinds {@link measureScoringRates} scores: the honest update and rewrites of it. */
export const SCORED_KINDS = ["honest", "norm-noise", "noise", "sign-flip", "scale"] as const;
export type ScoredKind = (typeof SCORED_KINDS)[number];

/** One scored update. */
export interface ScoredSample {
  round: number;
  trainer: number;
  kind: ScoredKind;
  scorePpm: number;
  verdict: ScoreVerdict;
  descentZ: number;
  /** Relative loss improvements on the assigned and the random batch. */
  gainAssigned: number;
  gainRandom: number;
  /** ‖Δ‖ over the reference norm (the median norm of the previous round's honest updates); absent in round 1. */
  normRatio?: number;
  /** Examples per validation batch it was scored on. */
  batchSize: number;
  /** Wall-clock milliseconds `scoreUpdate` took. */
  ms: number;
}

/** Per kind: how its updates were scored. */
export interface ScoringRate {
  kind: ScoredKind;
  updates: number;
  /** Scored 0: slashed when the scorers agree. For honest updates this is the false-positive rate. */
  zero: number;
  /** Scored 1 ppm: not accepted, not slashed. */
  unhelpful: number;
  /** Scored at least acceptScorePpm: accepted and paid. */
  accepted: number;
  verdicts: Record<ScoreVerdict, number>;
  /** The sign test's statistic: smallest, median and largest. */
  zMin: number;
  zMedian: number;
  zMax: number;
}

/** The honest updates scored at one validation batch size: the sign test's power and the cost. */
export interface BatchSizeRate {
  batchSize: number;
  /** Whether it is the model's own size ({@link validationBatchSize}), the one validators use. */
  model: boolean;
  updates: number;
  zero: number;
  unhelpful: number;
  accepted: number;
  zMin: number;
  zMedian: number;
  zMax: number;
  /** Mean ms of one `scoreUpdate` with a reference norm (rounds 2 on: 4 forward passes and a gradient); NaN without such rounds. */
  msWithReference: number;
  /** Mean ms without one (round 1: 4 more forward passes, the harm test); NaN without round 1. */
  msWithoutReference: number;
}

export interface ScoringRatesOptions {
  model: Model;
  dataset: Dataset;
  params: RoundRunParams;
  trainers: number;
  rounds: number;
  /** Seeds the round seeds, trainer addresses and challenges. */
  seed: string;
  /** Factor of sign-flip and scale. @default 10 */
  factor?: number;
  acceptScorePpm?: number;
  /**
   * Other validation batch sizes each honest update is also scored at (measurement only:
   * validators use the model's {@link validationBatchSize}), for the sign test's power and the
   * cost at each size ({@link BatchSizeRate}). @default none
   */
  sizes?: readonly number[];
  onUpdate?: (done: number, total: number) => void;
}

function median(sorted: readonly number[]): number {
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Measures the scoring rule on real training (issue 11): `trainers` honest trainers run the round
 * engine for `rounds` rounds from the genesis model (the honest aggregate is the next model); each
 * honest update is scored as a validator scores it (fresh post-commit challenge per round), and so
 * is each of its adversarial rewrites (`norm-noise`, `noise`, `sign-flip`, `scale`, the
 * `--adversary` strategies of the daemon), against the reference norm of the previous round's
 * honest updates (their median, as validators take it from the accepted set; none in round 1).
 * Every update is scored on the model's validation batch size ({@link validationBatchSize}), as
 * validators score it; with `sizes`, each honest update also at those sizes (`bySize`).
 * The honest rows give the false-positive rate of the
 * slash (honest scored 0), the others the false-negative rates (invalid not scored 0).
 */
export async function measureScoringRates(
  options: ScoringRatesOptions,
): Promise<{ samples: ScoredSample[]; rates: ScoringRate[]; bySize: BatchSizeRate[]; batchSize: number }> {
  const { model, dataset, params, rounds, seed } = options;
  const acceptScorePpm = options.acceptScorePpm ?? 2;
  const batchSize = validationBatchSize(model.spec.id);
  const extraSizes = [...new Set(options.sizes ?? [])].filter((size) => size !== batchSize);
  const nodes: Address[] = Array.from({ length: options.trainers }, (_, i) => simNodeAddress(`scoring/${seed}`, i));
  const residuals = new Map<Address, Float32Array | null>(nodes.map((n) => [n, null]));
  let global = (await genesisModel(model)).params;
  let momentum: Float32Array | undefined;
  let referenceNorm: number | undefined;
  const samples: ScoredSample[] = [];
  const sized: ScoredSample[] = [];
  const total = rounds * nodes.length;
  let done = 0;
  for (let round = 1; round <= rounds; round++) {
    const roundSeed = simRoundSeed(`scoring/${seed}`, round);
    const challenge: Hex = keccak256(stringToBytes(`protolearn/scoring/${seed}/challenge/${round}`));
    const honest: RoundUpdate[] = [];
    for (const [trainer, node] of nodes.entries()) {
      const update = await trainUpdate({ model, dataset, globalParams: global, seed: roundSeed, node, round, params, residual: residuals.get(node) ?? null });
      residuals.set(node, update.residual);
      honest.push({ node, bytes: update.bytes, samples: update.samples });
      for (const kind of SCORED_KINDS) {
        const bytes =
          kind === "honest"
            ? update.bytes
            : applyAdversary({ strategy: kind, factor: options.factor ?? 10 } satisfies Adversary, update.bytes, {
                model,
                params,
                round,
                seed: round * 1000 + trainer,
              }).bytes;
        const delta = toDense(decodeRoundUpdate(bytes, { model, params, round }));
        // the model's size (scoreUpdate's default) as validators score; honest updates also at `sizes`
        for (const size of kind === "honest" ? [undefined, ...extraSizes] : [undefined]) {
          const started = performance.now();
          const score = scoreUpdate({
            model,
            dataset,
            globalParams: global,
            delta,
            seed: roundSeed,
            node,
            numShards: params.numShards,
            challenge,
            referenceNorm,
            ...(size === undefined ? {} : { batchSize: size }),
          });
          const ms = performance.now() - started;
          (size === undefined ? samples : sized).push({
            round,
            trainer,
            kind,
            scorePpm: score.scorePpm,
            verdict: score.verdict,
            descentZ: score.descentZ,
            gainAssigned: score.gains.assigned,
            gainRandom: score.gains.random,
            ...(score.normRatio === undefined ? {} : { normRatio: score.normRatio }),
            batchSize: size ?? batchSize,
            ms,
          });
        }
      }
      options.onUpdate?.(++done, total);
    }
    referenceNorm = medianNorm(honest.map((u) => updateNorm(toDense(decodeRoundUpdate(u.bytes, { model, params, round })))));
    const next = nextModel({ model, globalParams: global, momentum, updates: honest, params, round });
    global = next.params;
    momentum = next.momentum;
  }
  const rates = SCORED_KINDS.map((kind): ScoringRate => {
    const mine = samples.filter((s) => s.kind === kind);
    const zs = mine.map((s) => s.descentZ).filter((z) => !Number.isNaN(z)).sort((a, b) => a - b);
    const verdicts: Record<ScoreVerdict, number> = { helpful: 0, unhelpful: 0, "not-descent": 0, oversized: 0, harmful: 0 };
    for (const s of mine) verdicts[s.verdict]++;
    return {
      kind,
      updates: mine.length,
      zero: mine.filter((s) => s.scorePpm === 0).length,
      unhelpful: mine.filter((s) => s.scorePpm > 0 && s.scorePpm < acceptScorePpm).length,
      accepted: mine.filter((s) => s.scorePpm >= acceptScorePpm).length,
      verdicts,
      zMin: zs[0] ?? Number.NaN,
      zMedian: median(zs),
      zMax: zs[zs.length - 1] ?? Number.NaN,
    };
  });
  const honest = [...samples.filter((s) => s.kind === "honest"), ...sized];
  const bySize = [batchSize, ...extraSizes]
    .sort((a, b) => a - b)
    .map((size): BatchSizeRate => {
      const mine = honest.filter((s) => s.batchSize === size);
      const zs = mine.map((s) => s.descentZ).filter((z) => !Number.isNaN(z)).sort((a, b) => a - b);
      return {
        batchSize: size,
        model: size === batchSize,
        updates: mine.length,
        zero: mine.filter((s) => s.scorePpm === 0).length,
        unhelpful: mine.filter((s) => s.scorePpm > 0 && s.scorePpm < acceptScorePpm).length,
        accepted: mine.filter((s) => s.scorePpm >= acceptScorePpm).length,
        zMin: zs[0] ?? Number.NaN,
        zMedian: median(zs),
        zMax: zs[zs.length - 1] ?? Number.NaN,
        msWithReference: mean(mine.filter((s) => s.normRatio !== undefined).map((s) => s.ms)),
        msWithoutReference: mean(mine.filter((s) => s.normRatio === undefined).map((s) => s.ms)),
      };
    });
  return { samples: [...samples, ...sized], rates, bySize, batchSize };
}
