/**
 * ‖v‖₂ accumulated in float64 in index order: the same number on every machine, which matters
 * because the clip threshold is derived from these norms.
 */
export function updateNorm(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

/**
 * The median of update norms: the mean of the two middle ones for an even count, 0 for none (as
 * aggregation's clip threshold takes it). Validators' norm cap and reference norm use it too.
 */
export function medianNorm(norms: readonly number[]): number {
  if (norms.length === 0) return 0;
  const sorted = [...norms].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
