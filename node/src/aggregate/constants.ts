/**
 * Updates longer than this multiple of the median update norm are scaled down to it.
 * @default 2
 */
export const DEFAULT_CLIP_MULTIPLE = 2;

/**
 * Fraction of the values trimmed from each end of every coordinate by the trimmed mean.
 * @default 0.2
 */
export const DEFAULT_TRIM_FRACTION = 0.2;

/** The coordinate-wise rules aggregation offers. */
export const AGGREGATION_METHODS = ["trimmed-mean", "median"] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

/**
 * Default coordinate-wise rule.
 * @default "trimmed-mean"
 */
export const DEFAULT_AGGREGATION_METHOD: AggregationMethod = "trimmed-mean";
