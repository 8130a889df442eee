import type { QuantizationBits } from "./constants.js";

/**
 * Symmetric uniform quantization with one scale per chunk.
 *
 * With `L = 2^(bits-1) - 1` levels per sign (127, 7 or 1), a value `v` of a chunk with scale
 * `s = max|v|` becomes the integer `q = roundHalfAwayFromZero(v · L / s)` in [-L, L], stored as
 * the unsigned code `q + L` in [0, 2L]; the code `2^bits - 1` is never written. It decodes to
 * `float32(q · s / L)`. See docs/update-format.md for the error bound.
 */

/** Levels per sign: 127 for 8 bits, 7 for 4 bits, 1 for 2 bits. */
export function quantizationLevels(bits: QuantizationBits): number {
  return (1 << (bits - 1)) - 1;
}

/** The code of `value` in a chunk with scale `scale` (≥ max |value| of the chunk). */
export function quantizeValue(value: number, scale: number, levels: number): number {
  if (scale === 0) return levels;
  const x = (value * levels) / scale;
  const magnitude = Math.min(levels, Math.floor(Math.abs(x) + 0.5));
  return x < 0 ? levels - magnitude : levels + magnitude;
}

/** The value a code stands for; encoder (for error feedback) and decoder both use this. */
export function dequantizeCode(code: number, scale: number, levels: number): number {
  return Math.fround(((code - levels) * scale) / levels);
}
