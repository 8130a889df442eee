/**
 * Unsigned LEB128 for u32 values: 7 bits per byte, least significant group first, high bit set
 * on every byte but the last. At most 5 bytes. The decoder accepts only the canonical (shortest)
 * encoding, so every update has exactly one byte representation.
 */

/** Bytes `value` takes as an unsigned LEB128 varint. */
export function varintLength(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  return 5;
}

/** Writes `value` (an integer in [0, 2^32)) at `offset`; returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  while (rest >= 0x80) {
    target[at++] = (rest & 0x7f) | 0x80;
    // Division rather than `>>>` keeps values ≥ 2^31 exact.
    rest = Math.floor(rest / 128);
  }
  target[at++] = rest;
  return at;
}

/** Why a varint could not be read. */
export type VarintFailure = "truncated" | "overlong" | "non-canonical";

/**
 * Reads one varint at `offset`. Returns the value and the next offset, or the failure.
 * Never reads past `end`.
 */
export function readVarint(
  source: Uint8Array,
  offset: number,
  end: number,
): { value: number; next: number } | { failure: VarintFailure } {
  let value = 0;
  let factor = 1;
  for (let i = 0; i < 5; i++) {
    const at = offset + i;
    if (at >= end) return { failure: "truncated" };
    const byte = source[at]!;
    value += (byte & 0x7f) * factor;
    if ((byte & 0x80) === 0) {
      // A last byte of zero after a continuation adds nothing: a longer spelling of a shorter varint.
      if (byte === 0 && i > 0) return { failure: "non-canonical" };
      if (value > 0xffff_ffff) return { failure: "overlong" };
      return { value, next: at + 1 };
    }
    factor *= 128;
  }
  return { failure: "overlong" };
}
