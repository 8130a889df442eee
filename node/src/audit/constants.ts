/**
 * How long `--verify` waits for one update before it reports the CID unreachable.
 * @default 30000
 */
export const DEFAULT_VERIFY_TIMEOUT_MS = 30_000;

/**
 * Updates fetched at the same time by `--verify`.
 * @default 4
 */
export const DEFAULT_VERIFY_CONCURRENCY = 4;

/**
 * Largest difference (ppm) between a locally recomputed score and the on-chain median that
 * `--rescore` accepts: validators on different TensorFlow.js backends may measure losses that
 * differ in the last bits (docs/validation.md), so an exact match is not required. Whether the
 * update is accepted must match exactly.
 * @default 1000
 */
export const DEFAULT_RESCORE_TOLERANCE_PPM = 1_000;

/** Held-out loss goes on chain 1e9-scaled (uint64). */
export const EVAL_LOSS_SCALE = 1e9;
