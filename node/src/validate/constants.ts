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
 * harmful — at the full step θ_r − Δ and again at the half step θ_r − Δ/2. Used only where no
 * reference norm exists yet (the run's first trained round), to catch an oversized update there:
 * score 0, which the run slashes as invalid when the validators agree. Elsewhere
 * {@link REFERENCE_NORM_CAP} does that job without this test's false positives (honest updates
 * harmful at both lengths: 2 of 504 after round 40, none before).
 */
export const HARM_MARGIN = 1e-2;

/**
 * The sign test's threshold. With g the gradient of the validation loss at θ_r on the assigned
 * shard's validation batch and Δ the update, z counts the coordinates where both are non-zero
 * and agree in sign: `z = (agree − k/2) / √(k/4)`. An update whose signs were chosen without the
 * gradient (noise of any norm, on any coordinates) has P(z ≥ t) ≤ exp(−t²/2) by Hoeffding's
 * inequality: at 5, ≤ 3.7·10⁻⁶. An honest update, a descent step on that shard's data, has z of
 * 15 and more (measured by `npm run bench:scoring`, docs/validation.md). An update with z below
 * this is not a descent direction and scores 0, which the run slashes as invalid.
 * @default 5
 */
export const DESCENT_Z_MIN = 5;

/**
 * An update whose norm exceeds this multiple of the reference norm — the median norm of the
 * latest earlier round's accepted updates, public to every validator — scores 0 (`norm-cap`).
 * Honest MNIST updates measured 0.90–1.35× the previous round's median over 62 rounds
 * (`npm run bench:scoring`, docs/validation.md), so 3 leaves a margin of 2.2× and still catches
 * any update scaled up 3× or more, which a validator judging its assigned updates alone could
 * otherwise not tell from honest work (the sign test is scale-free).
 * @default 3
 */
export const REFERENCE_NORM_CAP = 3;

/**
 * The fraction of Δ whose effect a score measures: losses at θ_r − Δ/4, not at the trainer's full
 * local model θ_r − Δ. An update enters the model as a share of the mean of the round's updates,
 * and the full step of a trainer specialised on its (label-skewed) shard overshoots on the other
 * shards: at the full step 38 % of honest MNIST updates measured as unhelpful over 63 rounds, at
 * a quarter step 2 % (docs/validation.md).
 */
export const SCORE_STEP = 0.25;

/** Score of a valid update that does not help; below any sensible `acceptScorePpm` (≥ 2). */
export const UNHELPFUL_SCORE_PPM = 1;

/** Scores are parts per million: 1,000,000 is the best score, 0 the worst. */
export const SCORE_SCALE_PPM = 1_000_000;

/** Domain tag of the validation batch stream (distinct from every training batch stream). */
export const VALIDATION_BATCH_TAG = "protolearn/validate/batch-v1";

/** Domain tag of the random-shard draw. */
export const RANDOM_SHARD_TAG = "protolearn/validate/random-shard-v1";
