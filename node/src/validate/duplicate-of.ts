import { DEFAULT_COSINE_THRESHOLD, DEFAULT_JACCARD_THRESHOLD } from "./constants.js";
import { ValidateError } from "./validate-error.js";

/** A sparse update as `decodeUpdate` returns it: strictly increasing indices and their values. */
export interface SparseUpdate {
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

/** Thresholds of {@link duplicateOf}; each in (0, 1]. */
export interface DuplicateOptions {
  /** @default DEFAULT_JACCARD_THRESHOLD (0.9) */
  jaccardThreshold?: number;
  /** @default DEFAULT_COSINE_THRESHOLD (0.9) */
  cosineThreshold?: number;
}

/**
 * |A ∩ B| / |A ∪ B| of the two transmitted index sets (the top-k coordinates), by one merge of
 * the sorted index lists. Two empty sets are identical (1).
 */
export function topKJaccard(a: SparseUpdate, b: SparseUpdate): number {
  const x = a.indices;
  const y = b.indices;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < x.length && j < y.length) {
    const xi = x[i] as number;
    const yj = y[j] as number;
    if (xi === yj) {
      common++;
      i++;
      j++;
    } else if (xi < yj) i++;
    else j++;
  }
  const union = x.length + y.length - common;
  return union === 0 ? 1 : common / union;
}

/**
 * Cosine similarity of two sparse updates, in float64 with every sum in index order (the same
 * number on every machine). 0 when either update is all zeros.
 */
export function cosineSimilarity(a: SparseUpdate, b: SparseUpdate): number {
  let dot = 0;
  let i = 0;
  let j = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const ai = a.indices[i] as number;
    const bj = b.indices[j] as number;
    if (ai === bj) {
      dot += (a.values[i] as number) * (b.values[j] as number);
      i++;
      j++;
    } else if (ai < bj) i++;
    else j++;
  }
  const normA = sumOfSquares(a.values);
  const normB = sumOfSquares(b.values);
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}

function sumOfSquares(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] as number) * (values[i] as number);
  return sum;
}

function threshold(value: number | undefined, fallback: number, name: string): number {
  const t = value ?? fallback;
  if (!(t > 0 && t <= 1)) {
    throw new ValidateError(`${name} is ${t}; it must be in (0, 1]`, {
      code: "VALIDATE_BAD_INPUT",
      fix: `leave ${name} at its default (${fallback}) or pass a similarity in (0, 1]`,
    });
  }
  return t;
}

/**
 * Near-duplicate detection over a round's updates **in commit order**: update j is a duplicate
 * of the earliest update i < j with `topKJaccard ≥ jaccardThreshold` or
 * `cosineSimilarity ≥ cosineThreshold`. Only the first of a group is credited; every later one
 * scores 0 (reason `duplicate`). Returns, per update, the position (in `updates`) of the update
 * it duplicates, or `null`.
 *
 * O(m² · k) for m updates of k values; m is bounded by the run's `maxNodesPerRound`.
 *
 * @example
 * const dup = duplicateOf(decodedInCommitOrder); // [null, null, 0] — the third copies the first
 */
export function duplicateOf(
  updates: readonly SparseUpdate[],
  options: DuplicateOptions = {},
): (number | null)[] {
  const jaccard = threshold(
    options.jaccardThreshold,
    DEFAULT_JACCARD_THRESHOLD,
    "jaccardThreshold",
  );
  const cosine = threshold(options.cosineThreshold, DEFAULT_COSINE_THRESHOLD, "cosineThreshold");
  return updates.map((later, j) => {
    for (let i = 0; i < j; i++) {
      const earlier = updates[i] as SparseUpdate;
      if (topKJaccard(earlier, later) >= jaccard || cosineSimilarity(earlier, later) >= cosine) {
        return i;
      }
    }
    return null;
  });
}

/**
 * Work that is already public when a round's updates are judged (P6): the previous round's
 * aggregate and the run's earlier accepted updates. An update that is a near-duplicate of any of
 * them is not new work.
 */
export interface PublicWork {
  /** What it is, for the verdict's detail ("the previous round's aggregate", "round 3's update by 0x…"). */
  label: string;
  /** Its sparse form: for an aggregate, its top-k coordinates (see {@link topKOfDense}). */
  update: SparseUpdate;
}

/**
 * The `k` largest-magnitude coordinates of a dense vector as a sparse update (indices
 * ascending; ties broken by the lower index, so every machine picks the same set). The
 * previous round's aggregate M_r − M_{r−1} is dense; a trainer that resubmits it has to
 * send its top-k, so the index sets are compared at the update's own k.
 */
export function topKOfDense(dense: Float32Array, k: number): SparseUpdate {
  const order = topKOrder(dense);
  const chosen = order.subarray(0, Math.min(k, order.length));
  const indices = Uint32Array.from(chosen).sort();
  const values = new Float32Array(indices.length);
  indices.forEach((index, i) => {
    values[i] = dense[index] as number;
  });
  return { indices, values };
}

const orderCache = new WeakMap<Float32Array, Uint32Array>();

function topKOrder(dense: Float32Array): Uint32Array {
  const cached = orderCache.get(dense);
  if (cached !== undefined) return cached;
  const order = new Uint32Array(dense.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => {
    const d = Math.abs(dense[b] as number) - Math.abs(dense[a] as number);
    return d !== 0 ? d : a - b;
  });
  orderCache.set(dense, order);
  return order;
}

/**
 * The first entry of `publicWork` that `update` nearly duplicates, or null: top-k Jaccard ≥
 * `jaccardThreshold` or |cosine| ≥ `cosineThreshold`. The absolute cosine counts a sign-flipped
 * copy of public work as a copy too (it is no more new work than the original, and within a
 * round the Jaccard test already catches it).
 *
 * @example
 * const prev = topKOfDense(previousAggregate, update.indices.length);
 * duplicateOfPublic(update, [{ label: "the previous round's aggregate", update: prev }]); // → that entry
 */
export function duplicateOfPublic(
  update: SparseUpdate,
  publicWork: readonly PublicWork[],
  options: DuplicateOptions = {},
): { work: PublicWork; jaccard: number; cosine: number } | null {
  const jaccard = threshold(options.jaccardThreshold, DEFAULT_JACCARD_THRESHOLD, "jaccardThreshold");
  const cosine = threshold(options.cosineThreshold, DEFAULT_COSINE_THRESHOLD, "cosineThreshold");
  if (update.indices.length === 0) return null;
  for (const work of publicWork) {
    if (work.update.indices.length === 0) continue;
    const j = topKJaccard(work.update, update);
    const c = cosineSimilarity(work.update, update);
    if (j >= jaccard || Math.abs(c) >= cosine) return { work, jaccard: j, cosine: c };
  }
  return null;
}
