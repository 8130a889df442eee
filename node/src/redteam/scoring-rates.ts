import { keccak256, stringToBytes, type Address, type Hex } from "viem";

import { medianNorm, updateNorm } from "../aggregate/update-norm.js";
import { toDense } from "../codec/index.js";
import { applyAdversary, type Adversary } from "../daemon/adversary.js";
import type { Dataset } from "../data/dataset.js";
import type { Model } from "../model/model.js";
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
  onUpdate?: (done: number, total: number) => void;
}

/**
 * Measures the scoring rule on real training (issue 11): `trainers` honest trainers run the round
 * engine for `rounds` rounds from the genesis model (the honest aggregate is the next model); each
 * honest update is scored as a validator scores it (fresh post-commit challenge per round), and so
 * is each of its adversarial rewrites (`norm-noise`, `noise`, `sign-flip`, `scale`, the
 * `--adversary` strategies of the daemon), against the reference norm of the previous round's
 * honest updates (their median, as validators take it from the accepted set; none in round 1).
 * The honest rows give the false-positive rate of the
 * slash (honest scored 0), the others the false-negative rates (invalid not scored 0).
 */
export async function measureScoringRates(options: ScoringRatesOptions): Promise<{ samples: ScoredSample[]; rates: ScoringRate[] }> {
  const { model, dataset, params, rounds, seed } = options;
  const acceptScorePpm = options.acceptScorePpm ?? 2;
  const nodes: Address[] = Array.from({ length: options.trainers }, (_, i) => simNodeAddress(`scoring/${seed}`, i));
  const residuals = new Map<Address, Float32Array | null>(nodes.map((n) => [n, null]));
  let global = (await genesisModel(model)).params;
  let momentum: Float32Array | undefined;
  let referenceNorm: number | undefined;
  const samples: ScoredSample[] = [];
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
        const score = scoreUpdate({ model, dataset, globalParams: global, delta, seed: roundSeed, node, numShards: params.numShards, challenge, referenceNorm });
        samples.push({
          round,
          trainer,
          kind,
          scorePpm: score.scorePpm,
          verdict: score.verdict,
          descentZ: score.descentZ,
          gainAssigned: score.gains.assigned,
          gainRandom: score.gains.random,
          ...(score.normRatio === undefined ? {} : { normRatio: score.normRatio }),
        });
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
      zMedian: zs[Math.floor(zs.length / 2)] ?? Number.NaN,
      zMax: zs[zs.length - 1] ?? Number.NaN,
    };
  });
  return { samples, rates };
}
