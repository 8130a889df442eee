/**
 * Deterministic top-k selection by magnitude.
 *
 * The order is total: larger |v| first, and among equal magnitudes the lower index first. So the
 * selected set is unique, whatever the algorithm. This one is a radix select on the IEEE-754 bit
 * patterns of |v| (for non-negative floats the pattern, read as an unsigned integer, orders
 * exactly like the value), four 8-bit passes and one final pass in index order, O(n) and with
 * the output already ascending.
 */

/** k for a density: `clamp(round(density · n), 1, n)`. Shared by encoder and decoder checks. */
export function topKCount(parameterCount: number, density: number): number {
  return Math.min(parameterCount, Math.max(1, Math.round(density * parameterCount)));
}

/**
 * Indices (ascending) of the `k` entries of `values` with the largest magnitude, ties broken
 * by lower index. `values` must be finite; `1 ≤ k ≤ values.length`.
 */
export function selectTopK(values: Float32Array, k: number): Uint32Array {
  const n = values.length;
  const selected = new Uint32Array(k);
  if (k === n) {
    for (let i = 0; i < n; i++) selected[i] = i;
    return selected;
  }
  const keys = magnitudeKeys(values);
  const threshold = kthLargestKey(keys, k);
  let above = 0;
  for (let i = 0; i < n; i++) if (keys[i]! > threshold) above++;
  // Every key above the threshold is in; the rest are the lowest-index keys equal to it.
  let ties = k - above;
  let out = 0;
  for (let i = 0; i < n && out < k; i++) {
    const key = keys[i]!;
    if (key > threshold) {
      selected[out++] = i;
    } else if (key === threshold && ties > 0) {
      selected[out++] = i;
      ties--;
    }
  }
  return selected;
}

/** Bit patterns of |v| as unsigned integers (the sign bit cleared, so -0 and 0 are equal). */
function magnitudeKeys(values: Float32Array): Uint32Array {
  const copy = new Float32Array(values);
  const keys = new Uint32Array(copy.buffer, copy.byteOffset, copy.length);
  for (let i = 0; i < keys.length; i++) keys[i] = keys[i]! & 0x7fff_ffff;
  return keys;
}

/** The k-th largest key (1-based), by narrowing one byte of the pattern per pass. */
function kthLargestKey(keys: Uint32Array, k: number): number {
  const histogram = new Uint32Array(256);
  let prefix = 0;
  let mask = 0;
  let remaining = k;
  for (let shift = 24; shift >= 0; shift -= 8) {
    histogram.fill(0);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if ((key & mask) >>> 0 === prefix) histogram[(key >>> shift) & 0xff]!++;
    }
    let byte = 255;
    for (; byte > 0; byte--) {
      const count = histogram[byte]!;
      if (count >= remaining) break;
      remaining -= count;
    }
    prefix = (prefix | (byte << shift)) >>> 0;
    mask = (mask | (0xff << shift)) >>> 0;
  }
  return prefix;
}
