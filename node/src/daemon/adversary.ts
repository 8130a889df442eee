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
 */
export const adversarySchema = z.object({
  strategy: z.enum(["none", "sign-flip", "scale", "noise", "garbage"]).default("none"),
  factor: z.number().positive().max(1e6).default(10),
});
export type Adversary = z.infer<typeof adversarySchema>;

export function applyAdversary(
  adversary: Adversary,
  honest: Uint8Array,
  context: { model: Model; params: RoundRunParams; round: number; seed: number },
): { bytes: Uint8Array; contentHash: `0x${string}` } {
  if (adversary.strategy === "none") return { bytes: honest, contentHash: contentHash(honest) };
  const rng = createRng(`adversary:${context.seed}`);
  const next = (): number => rng.nextFloat();
  if (adversary.strategy === "garbage") {
    const bytes = new Uint8Array(honest.length);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.nextInt(256);
    return { bytes, contentHash: contentHash(bytes) };
  }
  const delta = toDense(decodeRoundUpdate(honest, { model: context.model, params: context.params, round: context.round }));
  let scale = 0;
  for (const v of delta) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < delta.length; i++) {
    const v = delta[i] as number;
    if (adversary.strategy === "sign-flip") delta[i] = -adversary.factor * v;
    else if (adversary.strategy === "scale") delta[i] = adversary.factor * v;
    else delta[i] = (next() + next() + next() - 1.5) * scale;
  }
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
