/**
 * An update whose norm exceeds this multiple of the round's median update norm is rejected
 * (`norm-cap`, score 0). Aggregation clips at a smaller multiple anyway (the run's
 * `clipMultiple`, 2 by default); this cap only removes updates that are absurd on their face.
 * @default 10
 */
export const DEFAULT_NORM_CAP = 10;

/**
 * Two updates whose transmitted index sets have a Jaccard overlap |A∩B| / |A∪B| at or above this
 * are near-duplicates (honest MNIST updates overlap by about 0.03–0.06, docs/validation.md).
 * @default 0.9
 */
export const DEFAULT_JACCARD_THRESHOLD = 0.9;

/**
 * Two updates whose cosine similarity is at or above this are near-duplicates (honest MNIST
 * updates: about 0.05–0.12, docs/validation.md).
 * @default 0.9
 */
export const DEFAULT_COSINE_THRESHOLD = 0.9;

/**
 * Examples in each of the two validation batches (assigned shard, random shard). Part of the
 * scoring rule: validators that use another size measure other batches and score differently.
 * @default 256
 */
export const DEFAULT_VALIDATION_BATCH_SIZE = 256;

/**
 * How many updates a validator fetches from IPFS at the same time.
 * @default 8
 */
export const DEFAULT_FETCH_CONCURRENCY = 8;

/**
 * The weighted relative loss improvement below which an update scores 0: 0.1 %. A random
 * direction with the norm of an honest update moves the loss by about ±0.05–0.15 % (measured,
 * docs/validation.md); an honest update of even one inner step improves it by 0.25 % or more.
 */
export const SCORE_GAIN_FLOOR = 1e-3;

/**
 * Relative loss increase on BOTH the assigned and the random batch beyond which an update is
 * harmful (score 0, which the run slashes as invalid when the validators agree). An update that
 * neither helps nor clearly harms — an honest trainer's unlucky round — scores
 * {@link UNHELPFUL_SCORE_PPM} instead: not accepted, not rewarded, not slashed.
 */
export const HARM_MARGIN = 1e-2;

/** Score of a valid update that does not help; below any sensible `acceptScorePpm` (≥ 2). */
export const UNHELPFUL_SCORE_PPM = 1;

/** Scores are parts per million: 1,000,000 is the best score, 0 the worst. */
export const SCORE_SCALE_PPM = 1_000_000;

/** Domain tag of the validation batch stream (distinct from every training batch stream). */
export const VALIDATION_BATCH_TAG = "protolearn/validate/batch-v1";

/** Domain tag of the random-shard draw. */
export const RANDOM_SHARD_TAG = "protolearn/validate/random-shard-v1";
