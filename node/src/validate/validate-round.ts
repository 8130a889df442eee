import { isAddress, type Address, type Hex } from "viem";
import { z } from "zod";

import { medianNorm as medianOfNorms, updateNorm } from "../aggregate/index.js";
import { toDense, type DecodeExpectation, type DecodedUpdate } from "../codec/index.js";
import type { Dataset } from "../data/dataset.js";
import { DEFAULT_NUM_SHARDS } from "../data/shard.js";
import type { Model } from "../model/model.js";
import type { BlobStore } from "../storage/blob-store.js";
import {
  DEFAULT_FETCH_CONCURRENCY,
  DEFAULT_NORM_CAP,
  SCORE_SCALE_PPM,
} from "./constants.js";
import {
  cosineSimilarity,
  duplicateOf,
  duplicateOfPublic,
  topKJaccard,
  topKOfDense,
  type DuplicateOptions,
  type PublicWork,
  type SparseUpdate,
} from "./duplicate-of.js";
import { fetchUpdate, type FetchFailureReason, type FetchUpdateResult } from "./fetch-update.js";
import { scoreUpdate, type ScoreVerdict, type UpdateScore } from "./score-update.js";
import { ValidateError } from "./validate-error.js";
import { mapBounded } from "../async/map-bounded.js";

/** Why an update got the score it got; everything but `ok` means it is not accepted. */
export type VerdictReason = "ok" | FetchFailureReason | "norm-cap" | "no-improvement" | "harmful" | "not-descent" | "duplicate";

/** One revealed update of the round, as the `Revealed` event and the commit order give it. */
export interface RevealedUpdate {
  /** Position in reveal order (the `index` of `Revealed`, `assignedTo` and `scorersOf`). 0 … m−1. */
  index: number;
  /** The trainer. */
  node: Address;
  cid: string;
  contentHash: Hex;
  /** Samples the trainer declared (passed through to the accepted set). */
  samples: number | bigint;
  /** Position of the trainer's commit in the round (earlier commits win duplicate groups). */
  commitIndex: number;
}

/** The run's limits on what an update may be. */
export interface ValidationCaps {
  /** The run's model id (bytes32). */
  modelId: Hex;
  /** Largest update accepted, in bytes. */
  maxBytes: number;
  /** The round every update's header must name; omit only for audits. */
  round?: number;
  /** The run's bits, chunk size and density; each one given is enforced. */
  params?: DecodeExpectation["params"];
}

/** Inputs of {@link validateRound}. */
export interface ValidateRoundParameters {
  store: BlobStore;
  model: Model;
  dataset: Dataset;
  /** θ_r. Not modified. */
  globalParams: Float32Array;
  /** seed_r (bytes32). */
  seed: Hex | Uint8Array;
  /** Every revealed update of the round, in any order. */
  reveals: readonly RevealedUpdate[];
  caps: ValidationCaps;
  /** Per-update fetch deadline in milliseconds. */
  timeoutMs: number;
  /** The run's `acceptScorePpm` (1 … 1,000,000): scores below it are not aggregated. */
  acceptScorePpm: number;
  /** @default DEFAULT_NUM_SHARDS (8) */
  numShards?: number;
  /** Reject updates with norm > normCap × median norm. @default DEFAULT_NORM_CAP (10) */
  normCap?: number;
  duplicates?: DuplicateOptions;
  /**
   * The previous round's public aggregate M_r − M_{r−1} (dense; undefined when unknown or when
   * the previous round changed nothing). An update that nearly duplicates it is a `duplicate`.
   */
  previousAggregate?: Float32Array;
  /** The run's earlier accepted updates (a bounded index, `UpdateIndex.before(round)`): copies of them are `duplicate`s. */
  earlier?: readonly PublicWork[];
  /**
   * The median norm of the latest earlier round's accepted updates (`UpdateIndex.referenceNorm`):
   * updates above REFERENCE_NORM_CAP × it score 0 (`norm-cap`); without it the harm test stands in.
   */
  referenceNorm?: number;
  /**
   * The round's randomness rand_r (`currentRound().randomness`), fixed after the commits closed:
   * mixed into the validation batches so no trainer knows them while it trains (docs/validation.md).
   */
  challenge?: Hex | Uint8Array;
  /**
   * Judge only these reveal indices (a committee member's assigned updates): nothing else is
   * fetched, decoded or scored, and the others get no verdict. Implies `perUpdate`.
   */
  only?: ReadonlySet<number>;
  /**
   * Judge each update on its own (rounds v2 committees): steps 1, 3 against public work only, and
   * 4 — no norm cap against the round's median and no near-duplicates among the round's updates,
   * which would need every update of the round. What a committee member does (with `only`) and
   * what an audit does to reproduce its scores. @default false (the whole round, as the
   * simulation judges it)
   */
  perUpdate?: boolean;
  /** Updates fetched at once. @default DEFAULT_FETCH_CONCURRENCY (8) */
  concurrency?: number;
  /** Cancels fetching and scoring; cancelling throws. */
  signal?: AbortSignal;
}

/** The validator's judgement of one revealed update. */
export interface UpdateVerdict {
  index: number;
  node: Address;
  /** What to submit on chain for this update. */
  scorePpm: number;
  reason: VerdictReason;
  /** Whether this validator aggregates it: reason `ok` (which implies scorePpm ≥ acceptScorePpm). */
  accepted: boolean;
  /** One line for the log: the measured numbers or the peer's fault. */
  detail: string;
  /** ‖Δ‖₂ of a decodable update. */
  norm?: number;
  /** For `duplicate`: the reveal index of the earlier-committed update it repeats. */
  duplicateOf?: number;
  /** For `duplicate` of public work: what it repeats (the previous round's aggregate, an earlier round's update). */
  duplicateOfPublic?: string;
  /** For scored updates: the four losses and the gains behind the score. */
  score?: UpdateScore;
}

/** An update this validator aggregates. */
export interface AcceptedUpdate {
  index: number;
  node: Address;
  samples: number | bigint;
  /** The encoded bytes (content hash checked): what `nextModel` takes. */
  bytes: Uint8Array;
  /** The dense Δ: what `aggregateUpdates` takes. */
  delta: Float32Array;
  /** The decoded sparse update (indices and values): what the earlier-updates index keeps. */
  update: SparseUpdate;
}

/** The outcome of validating a round. */
export interface RoundValidation {
  /** One verdict per judged reveal (every reveal unless `only`), in reveal order. */
  verdicts: UpdateVerdict[];
  /** `verdicts.map((v) => v.scorePpm)`: the judged updates' scores in reveal order (a vote carries those of its assigned updates). */
  scores: number[];
  /** The accepted updates, in reveal order. */
  accepted: AcceptedUpdate[];
  /** Median norm of the judged decodable updates (0 if none). */
  medianNorm: number;
  /** normCap × medianNorm: norms above it were rejected (Infinity when judged per update: no cap). */
  normLimit: number;
}

const hexAddress = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), "is not an address");
const revealSchema = z.object({
  index: z.number().int().nonnegative(),
  node: hexAddress,
  cid: z.string(),
  contentHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "is not a bytes32"),
  samples: z.union([z.number().int().nonnegative(), z.bigint().nonnegative()]),
  commitIndex: z.number().int().nonnegative(),
});
const optionsSchema = z.object({
  timeoutMs: z.number().int().positive(),
  acceptScorePpm: z.number().int().min(1).max(SCORE_SCALE_PPM),
  numShards: z.number().int().min(2),
  normCap: z.number().finite().min(1),
  concurrency: z.number().int().positive(),
  maxBytes: z.number().int().positive(),
});

function badInput(what: string, error: z.ZodError, fix: string): ValidateError {
  return new ValidateError(
    `${what}: ${error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    { code: "VALIDATE_BAD_INPUT", fix },
  );
}

/** The verdict reason of a scored update that is not accepted. */
const REASON_OF_VERDICT: Record<ScoreVerdict, VerdictReason> = {
  helpful: "no-improvement", // helpful but below acceptScorePpm
  unhelpful: "no-improvement",
  "not-descent": "not-descent",
  oversized: "norm-cap",
  harmful: "harmful",
};



function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted === true) {
    throw new ValidateError(`validation was cancelled ${where}`, {
      code: "VALIDATE_ABORTED",
      fix: "nothing to fix if the node is shutting down; otherwise validate the round again before the score deadline",
      cause: signal.reason,
    });
  }
}

/**
 * A validator's whole round (docs/validation.md): for every revealed update, in this order,
 * 1. fetch it (bounded time and size) and check its content hash,
 * 2. decode it under the run's rules and reject norms above `normCap × median norm`,
 * 3. mark near-duplicates of earlier-committed updates and of public work (the previous
 *    round's aggregate, the run's earlier accepted updates),
 * 4. score the rest on the assigned and a random shard.
 * A failure at any step scores 0 with its reason. The result holds the scores in reveal order
 * (a vote takes those of the updates assigned to its seats) and the accepted updates to aggregate.
 * With `only` (a committee member's assigned updates) or `perUpdate` (an audit reproducing the
 * members' scores) each update is judged on its own: no norm cap against the round's median and
 * no near-duplicates among the round's updates (steps 2 and the first half of 3 need every
 * update of the round); the public-work checks and scoring are the same.
 *
 * Throws only for the validator's own faults (bad arguments, its store not running,
 * cancellation), never for a peer's.
 *
 * @example
 * const { scores, accepted } = await validateRound({ store, model, dataset, globalParams, seed, reveals, caps, timeoutMs: 30_000, acceptScorePpm: 1 });
 * const next = nextModel({ model, globalParams, momentum, updates: accepted, params, round });
 * // the vote: per held seat, scores[i] for i in assignedTo(seat); then commitVote / revealVote
 */
export async function validateRound(input: ValidateRoundParameters): Promise<RoundValidation> {
  const { store, model, dataset, globalParams, seed, caps, signal } = input;
  const options = optionsSchema.safeParse({
    timeoutMs: input.timeoutMs,
    acceptScorePpm: input.acceptScorePpm,
    numShards: input.numShards ?? DEFAULT_NUM_SHARDS,
    normCap: input.normCap ?? DEFAULT_NORM_CAP,
    concurrency: input.concurrency ?? DEFAULT_FETCH_CONCURRENCY,
    maxBytes: caps.maxBytes,
  });
  if (!options.success) {
    throw badInput(
      "validation options are invalid",
      options.error,
      "pass the run's acceptScorePpm (1 … 1,000,000) and size cap, a positive fetch timeout, at least 2 shards and normCap ≥ 1",
    );
  }
  const { timeoutMs, acceptScorePpm, numShards, normCap, concurrency, maxBytes } =
    options.data;
  const reveals = [...input.reveals].sort((a, b) => a.index - b.index);
  reveals.forEach((reveal, position) => {
    const parsed = revealSchema.safeParse(reveal);
    if (!parsed.success) {
      throw badInput(
        `reveal ${position} is invalid`,
        parsed.error,
        "pass the reveals as the Revealed events give them",
      );
    }
    if (reveal.index !== position) {
      throw new ValidateError(
        `reveal indices must be 0 … ${reveals.length - 1} once each; position ${position} has index ${reveal.index}`,
        { code: "VALIDATE_BAD_INPUT", fix: "pass every Revealed event of the round exactly once" },
      );
    }
  });
  const seen = new Set<string>();
  const commits = new Set<number>();
  for (const reveal of reveals) {
    const key = reveal.node.toLowerCase();
    if (seen.has(key) || commits.has(reveal.commitIndex)) {
      throw new ValidateError(
        `reveal ${reveal.index} repeats node ${reveal.node} or commit index ${reveal.commitIndex}`,
        {
          code: "VALIDATE_BAD_INPUT",
          fix: "each node reveals once per round, each commit has its own index",
        },
      );
    }
    seen.add(key);
    commits.add(reveal.commitIndex);
  }

  const perUpdate = input.perUpdate === true || input.only !== undefined;
  const judged = input.only === undefined ? reveals : reveals.filter((r) => (input.only as ReadonlySet<number>).has(r.index));

  // 1. Fetch and check the content hash; decode under the run's rules.
  const expected: Omit<DecodeExpectation, "maxBytes"> = {
    modelId: caps.modelId,
    shapes: model.spec.params.map((p) => p.shape),
    ...(caps.round === undefined ? {} : { round: caps.round }),
    ...(caps.params === undefined ? {} : { params: caps.params }),
  };
  const fetchedJudged: FetchUpdateResult[] = await mapBounded(judged, concurrency, (reveal) =>
    fetchUpdate({
      store,
      cid: reveal.cid,
      contentHash: reveal.contentHash,
      timeoutMs,
      maxBytes,
      expected,
      ...(signal ? { signal } : {}),
    }),
  );
  throwIfAborted(signal, "after fetching");
  // Indexed by reveal index; holes for the reveals not judged.
  const fetched: (FetchUpdateResult | undefined)[] = new Array<FetchUpdateResult | undefined>(reveals.length);
  judged.forEach((reveal, i) => {
    fetched[reveal.index] = fetchedJudged[i];
  });

  // 2. Norm cap against the median norm of every decodable update (not per update: a committee
  //    member does not see the round's other updates; scoring gives a blown-up update 0 anyway).
  const norms = fetched.map((f) => (f?.ok === true ? updateNorm(f.update.values) : Number.NaN));
  const medianNorm = medianOfNorms(norms.filter((norm) => !Number.isNaN(norm)));
  const normLimit = perUpdate ? Number.POSITIVE_INFINITY : normCap * medianNorm;

  // 3. Near-duplicates, judged in commit order among the decodable updates (not per update).
  const decodable = judged
    .filter((reveal) => fetched[reveal.index]?.ok === true)
    .sort((a, b) => a.commitIndex - b.commitIndex);
  const sparse = decodable.map(
    (reveal) => (fetched[reveal.index] as { update: DecodedUpdate }).update,
  );
  const duplicates = new Map<number, number>();
  if (!perUpdate) {
    duplicateOf(sparse, input.duplicates).forEach((earlier, position) => {
      if (earlier !== null) {
        duplicates.set(
          (decodable[position] as RevealedUpdate).index,
          (decodable[earlier] as RevealedUpdate).index,
        );
      }
    });
  }

  // 3b. Near-duplicates of public work: the previous round's aggregate and earlier rounds' updates (P6).
  const publicDuplicates = new Map<number, { label: string; jaccard: number; cosine: number }>();
  for (const reveal of decodable) {
    if (duplicates.has(reveal.index)) continue;
    const update = (fetched[reveal.index] as { update: DecodedUpdate }).update;
    const work: PublicWork[] = [];
    if (input.previousAggregate !== undefined) {
      work.push({ label: "the previous round's aggregate", update: topKOfDense(input.previousAggregate, update.indices.length) });
    }
    work.push(...(input.earlier ?? []));
    const hit = duplicateOfPublic(update, work, input.duplicates);
    if (hit !== null) publicDuplicates.set(reveal.index, { label: hit.work.label, jaccard: hit.jaccard, cosine: hit.cosine });
  }

  // 4. Score what is left, one update at a time (backend work).
  const verdicts: UpdateVerdict[] = [];
  const accepted: AcceptedUpdate[] = [];
  for (const reveal of judged) {
    const { index, node } = reveal;
    const result = fetched[index] as FetchUpdateResult;
    if (!result.ok) {
      verdicts.push({
        index,
        node,
        scorePpm: 0,
        reason: result.reason,
        accepted: false,
        detail: result.detail,
      });
      continue;
    }
    const norm = norms[index] as number;
    if (norm > normLimit) {
      verdicts.push({
        index,
        node,
        scorePpm: 0,
        reason: "norm-cap",
        accepted: false,
        norm,
        detail: `‖Δ‖ = ${norm.toPrecision(4)} exceeds ${normCap} × the median norm ${medianNorm.toPrecision(4)}`,
      });
      continue;
    }
    const original = duplicates.get(index);
    if (original !== undefined) {
      const first = (fetched[original] as { update: DecodedUpdate }).update;
      verdicts.push({
        index,
        node,
        scorePpm: 0,
        reason: "duplicate",
        accepted: false,
        norm,
        duplicateOf: original,
        detail: `near-duplicate of reveal ${original} (${(reveals[original] as RevealedUpdate).node}, committed earlier): top-k Jaccard ${topKJaccard(first, result.update).toFixed(3)}, cosine ${cosineSimilarity(first, result.update).toFixed(3)}`,
      });
      continue;
    }
    const copied = publicDuplicates.get(index);
    if (copied !== undefined) {
      verdicts.push({
        index,
        node,
        scorePpm: 0,
        reason: "duplicate",
        accepted: false,
        norm,
        duplicateOfPublic: copied.label,
        detail: `near-duplicate of ${copied.label}: top-k Jaccard ${copied.jaccard.toFixed(3)}, cosine ${copied.cosine.toFixed(3)}`,
      });
      continue;
    }
    throwIfAborted(signal, `before scoring reveal ${index}`);
    const delta = toDense(result.update);
    const score = scoreUpdate({
      model,
      dataset,
      globalParams,
      delta,
      seed,
      node,
      // the model's validation batch size (validationBatchSize): part of the rule, never a node's choice
      numShards,
      ...(input.challenge === undefined ? {} : { challenge: input.challenge }),
      ...(input.referenceNorm === undefined ? {} : { referenceNorm: input.referenceNorm }),
    });
    const ok = score.scorePpm >= acceptScorePpm;
    const losses = `assigned shard ${score.assigned.shard}: ${score.assigned.before.toFixed(4)} → ${score.assigned.after.toFixed(4)}, random shard ${score.random.shard}: ${score.random.before.toFixed(4)} → ${score.random.after.toFixed(4)} at Δ/4, sign test z = ${score.descentZ.toFixed(1)}${score.normRatio === undefined ? "" : `, ‖Δ‖ = ${score.normRatio.toFixed(2)} × the reference norm`}`;
    verdicts.push({
      index,
      node,
      scorePpm: score.scorePpm,
      reason: ok ? "ok" : REASON_OF_VERDICT[score.verdict],
      accepted: ok,
      norm,
      score,
      detail: ok
        ? losses
        : `${losses}: score ${score.scorePpm} ppm is below acceptScorePpm ${acceptScorePpm}`,
    });
    if (ok) accepted.push({ index, node, samples: reveal.samples, bytes: result.bytes, delta, update: result.update });
  }
  return { verdicts, scores: verdicts.map((v) => v.scorePpm), accepted, medianNorm, normLimit };
}
