import { keccak256, toBytes } from "viem";

import { ProtolearnError } from "../errors.js";

/**
 * A seed for {@link createRng}.
 *
 * - `Uint8Array`: raw bytes, e.g. a round seed (`hexToBytes(seed_r)`) or an address.
 * - `bigint`: a non-negative integer below 2^256, taken as its 32 big-endian bytes, so
 *   `createRng(BigInt(seed_r))` and `createRng(hexToBytes(seed_r))` are the same stream for a
 *   bytes32 seed (the contract may hand it out as `uint256` or `bytes32`).
 * - `string`: a label, taken as its UTF-8 bytes under its own domain tag (never parsed as hex),
 *   so `createRng("0x01")` and `createRng(new Uint8Array([1]))` are different streams.
 */
export type RngSeed = Uint8Array | bigint | string;

/** A deterministic pseudo-random generator; the same seed gives the same sequence on every machine. */
export interface Rng {
  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Next uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** Next uniform integer in [0, n), without modulo bias. `n` must be an integer in [1, 2^32]. */
  nextInt(n: number): number;
  /** Next standard normal sample (Box–Muller on two {@link nextFloat} draws). */
  nextNormal(): number;
  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  /**
   * A new, independent generator derived from this one's seed and `label`, without advancing
   * this one. Use it to give each consumer (each tensor, each step) its own stream, so adding
   * a consumer never shifts the numbers another one sees.
   */
  fork(label: string): Rng;
}

const TAG_BYTES = 0x01;
const TAG_STRING = 0x03;
const TAG_FORK = 0x04;
const TWO_POW_256 = 1n << 256n;
const UTF8 = new TextEncoder();

/** keccak256(tag || body) as 32 bytes: the 256-bit root from which a stream is expanded. */
function rootFromSeed(seed: RngSeed): Uint8Array {
  let tag: number;
  let body: Uint8Array;
  if (seed instanceof Uint8Array) {
    tag = TAG_BYTES;
    body = seed;
  } else if (typeof seed === "bigint") {
    if (seed < 0n || seed >= TWO_POW_256) {
      throw new ProtolearnError(`RNG seed ${seed} is outside [0, 2^256)`, {
        code: "RNG_SEED_RANGE",
        fix: "pass a non-negative bigint below 2^256, or the seed's bytes as a Uint8Array",
      });
    }
    tag = TAG_BYTES;
    body = toBytes(seed, { size: 32 });
  } else {
    tag = TAG_STRING;
    body = UTF8.encode(seed);
  }
  const input = new Uint8Array(body.length + 1);
  input[0] = tag;
  input.set(body, 1);
  return keccak256(input, "bytes");
}

/**
 * xoshiro128** (Blackman & Vigna) over four 32-bit words; all arithmetic is 32-bit integer
 * (`Math.imul`, shifts), so every JavaScript engine produces the same bits.
 */
class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  /** `root` keys {@link fork}; its first 16 bytes (four little-endian uint32) are the state. */
  constructor(private readonly root: Uint8Array) {
    const view = new DataView(root.buffer, root.byteOffset, root.byteLength);
    this.s0 = view.getUint32(0, true) | 0;
    this.s1 = view.getUint32(4, true) | 0;
    this.s2 = view.getUint32(8, true) | 0;
    this.s3 = view.getUint32(12, true) | 0;
    // The all-zero state is the one fixed point of xoshiro; keccak makes it practically
    // unreachable, but a fixed fallback keeps the generator total.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992; // (hi·2^26 + lo) / 2^53
  }

  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) {
      throw new ProtolearnError(`Rng.nextInt(${n}): the bound must be an integer in [1, 2^32]`, {
        code: "RNG_BOUND_RANGE",
        fix: "pass a positive integer bound no larger than 4294967296",
      });
    }
    // Rejection sampling: draws at or above the largest multiple of n are redrawn.
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  nextNormal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    // 1 - u keeps the log argument in (0, 1].
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  fork(label: string): Rng {
    const encoded = UTF8.encode(label);
    const input = new Uint8Array(1 + this.root.length + encoded.length);
    input[0] = TAG_FORK;
    input.set(this.root, 1);
    input.set(encoded, 1 + this.root.length);
    return new Xoshiro128(keccak256(input, "bytes"));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Creates a deterministic generator. The seed is hashed with keccak256 (under a tag for its
 * type) and the first 16 bytes of the digest, read as four little-endian uint32, become the
 * xoshiro128** state. Every node and validator that passes the same seed sees the same numbers.
 *
 * Note: `Math.log`/`Math.sin`/`Math.cos` in {@link Rng.nextNormal} are not required by the
 * ECMAScript spec to be correctly rounded; use integer/uniform draws (`nextUint32`, `nextInt`,
 * `nextFloat`) for anything that must agree across machines (shards, batches), and normals only
 * where the result is hashed and pinned by the run (model initialisation).
 *
 * @example
 * const rng = createRng(hexToBytes(roundSeed));
 * const shard = rng.nextInt(numShards);
 */
export function createRng(seed: RngSeed): Rng {
  return new Xoshiro128(rootFromSeed(seed));
}

/**
 * The bare xoshiro128** generator from an explicit 128-bit state (four uint32 words), for
 * checking against the reference implementation's test vectors. Protocol code uses
 * {@link createRng}, which derives the state from a seed.
 */
export function xoshiro128StarStar(state: readonly [number, number, number, number]): Rng {
  const root = new Uint8Array(16);
  const view = new DataView(root.buffer);
  state.forEach((word, i) => view.setUint32(4 * i, word >>> 0, true));
  return new Xoshiro128(root);
}
