/**
 * mulberry32: a small, fast, seeded 32-bit PRNG. Not cryptographic; it makes randomized
 * tests reproducible (same seed, same sequence on every machine).
 */
export class Mulberry32 {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Next value in [0, 2^32). */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Next value in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** bigint in [0, n] (inclusive), uniform enough for test amounts (53 bits of resolution). */
  bigintUpTo(n: bigint): bigint {
    if (n <= 0n) return 0n;
    const scale = 2n ** 53n;
    const r = BigInt(Math.floor(this.next() * 2 ** 53));
    return (n * r) / (scale - 1n);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Mulberry32.pick: empty array");
    return items[this.int(items.length)]!;
  }
}
