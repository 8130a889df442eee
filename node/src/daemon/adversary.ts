import { z } from "zod";
import { contentHash, encodeUpdate, toDense } from "../codec/index.js";
import type { Model } from "../model/model.js";
import { createRng } from "../random/index.js";
import { decodeRoundUpdate, type RoundRunParams } from "../round/index.js";

/**
 * Misbehaviour on purpose, for demos and tests of the protocol's defences (never the default):
 * the trainer trains honestly, then rewrites its update before committing it.
 * - `sign-flip`: −factor × Δ (pushes the model the wrong way; default factor 10)
 * - `scale`: factor × Δ (an outsized update)
 * - `noise`: Gaussian-like noise of Δ's scale, unrelated to the data
 * - `garbage`: random bytes that do not decode at all
 * - `norm-noise`: Gaussian noise on the honest update's own coordinates, scaled to the honest
 *   update's norm (same size, same sparsity, no signal: what norm clipping cannot see)
 * - `replay`: the previous round's public aggregate (M_prev − M_r, the model change everyone
 *   saw), re-encoded as this round's update; the honest update where there is none yet
 * - `fit-validation`: fits what validators measure rather than training: `factor`/2 × the inner
 *   steps at `factor` × the learning rate on its assigned shard, whose examples the validation
 *   batches come from (it cannot know which ones: they are drawn after the commits close)
 * - `seat-fill`: trains honestly; the operator runs several such identities to take trainer seats
 *   (the red team gives them scarce seats and measures their share against their stake)
 *
 * A validator (issue 11):
 * - `vote-copy`: attests the right model but does not score: each assigned update gets the
 *   median its trainer received in the previous round (public on chain), else 500,000
 * - `withhold`: scores honestly but attests another model hash (a group above 1/3 of the seats
 *   that withholds agreement)
 * - `collude-zero`: scores honestly except that it scores `target`'s update 0 every round
 * - `split-stake`: validates honestly; its operator's stake is split over several identities
 */
export const TRAINER_ADVERSARIES = ["sign-flip", "scale", "noise", "garbage", "norm-noise", "replay", "fit-validation", "seat-fill"] as const;
export const VALIDATOR_ADVERSARIES = ["vote-copy", "withhold", "collude-zero", "split-stake"] as const;
export const ADVERSARY_STRATEGIES = ["none", ...TRAINER_ADVERSARIES, ...VALIDATOR_ADVERSARIES] as const;
export const adversarySchema = z
  .object({
    strategy: z.enum(ADVERSARY_STRATEGIES).default("none"),
    factor: z.number().positive().max(1e6).default(10),
    /** collude-zero: the trainer scored 0. */
    target: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address").optional(),
  })
  .refine((a) => a.strategy !== "collude-zero" || a.target !== undefined, {
    message: "collude-zero needs the target trainer's address (--adversary-target)",
    path: ["target"],
  });
export type Adversary = z.infer<typeof adversarySchema>;

/** Whether the strategy rewrites a trainer's update (the others train honestly or are a validator's). */
export function rewritesUpdate(strategy: Adversary["strategy"]): boolean {
  return strategy !== "none" && strategy !== "seat-fill" && strategy !== "fit-validation" && !(VALIDATOR_ADVERSARIES as readonly string[]).includes(strategy);
}

export function applyAdversary(
  adversary: Adversary,
  honest: Uint8Array,
  context: {
    model: Model;
    params: RoundRunParams;
    round: number;
    seed: number;
    /** For `replay`: ModelSync.previousAggregate(round). */
    previousAggregate?: Float32Array | undefined;
  },
): { bytes: Uint8Array; contentHash: `0x${string}` } {
  if (!rewritesUpdate(adversary.strategy)) return { bytes: honest, contentHash: contentHash(honest) };
  if (adversary.strategy === "replay" && context.previousAggregate === undefined) return { bytes: honest, contentHash: contentHash(honest) };
  const rng = createRng(`adversary:${context.seed}`);
  const next = (): number => rng.nextFloat();
  if (adversary.strategy === "garbage") {
    const bytes = new Uint8Array(honest.length);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.nextInt(256);
    return { bytes, contentHash: contentHash(bytes) };
  }
  const delta = toDense(decodeRoundUpdate(honest, { model: context.model, params: context.params, round: context.round }));
  if (adversary.strategy === "replay") delta.set(context.previousAggregate!.subarray(0, delta.length));
  else if (adversary.strategy === "norm-noise") normNoise(delta, next);
  else rewrite(adversary, delta, next);
  const { bytes } = encodeUpdate(delta, {
    modelId: context.params.modelId,
    round: context.round,
    shapes: context.model.spec.params.map((p) => p.shape),
    density: context.params.density,
    bits: context.params.bits,
    chunkSize: context.params.chunkSize,
    residual: null,
  });
  return { bytes, contentHash: contentHash(bytes) };
}

/** Gaussian (Box–Muller) noise on delta's non-zero coordinates, with delta's ‖·‖₂. */
function normNoise(delta: Float32Array, next: () => number): void {
  let norm = 0;
  let noiseNorm = 0;
  for (let i = 0; i < delta.length; i++) {
    const v = delta[i] as number;
    if (v === 0) continue;
    norm += v * v;
    const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    delta[i] = g;
    noiseNorm += g * g;
  }
  const factor = noiseNorm > 0 ? Math.sqrt(norm / noiseNorm) : 0;
  for (let i = 0; i < delta.length; i++) delta[i] = (delta[i] as number) * factor;
}

function rewrite(adversary: Adversary, delta: Float32Array, next: () => number): void {
  let scale = 0;
  for (const v of delta) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < delta.length; i++) {
    const v = delta[i] as number;
    if (adversary.strategy === "sign-flip") delta[i] = -adversary.factor * v;
    else if (adversary.strategy === "scale") delta[i] = adversary.factor * v;
    else delta[i] = (next() + next() + next() - 1.5) * scale;
  }
}
