/**
 * ‖v‖₂ accumulated in float64 in index order: the same number on every machine, which matters
 * because the clip threshold is derived from these norms.
 */
export function updateNorm(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}
