import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Hex } from "viem";

import {
  CodecError,
  decodeUpdate,
  encodeUpdate,
  readUpdateBytes,
  writeUpdateBytes,
  type DecodeExpectation,
  type QuantizationBits,
  type TensorShape,
} from "../../node/src/codec/index.js";
import { SeededRandom } from "./fixtures/prng.js";

/**
 * Seeded fuzzing of the decoder. Every input must either decode to a valid update or throw a
 * CodecError; any other exception, or a hang (the test's timeout), fails. Inputs: random bytes,
 * valid encodings with bit flips, byte overwrites, truncations, insertions, deletions, splices of
 * two valid encodings, and headers with random field values.
 */

const MODEL: Hex = `0x${"ab".repeat(32)}`;
const SHAPES: readonly TensorShape[] = [[12, 10], [10], [10, 3], [3]];
const N = 12 * 10 + 10 + 10 * 3 + 3;
/** Fixed header (54) plus four shapes (1 + 4 · rank bytes each): where the k field starts. */
const PAYLOAD_START = 54 + 9 + 5 + 9 + 5;
const EXPECTED: DecodeExpectation = { modelId: MODEL, shapes: SHAPES, maxBytes: 4096 };
const CASES_PER_STRATEGY = 1_500;

type Strategy = (random: SeededRandom, seeds: Uint8Array[]) => Uint8Array;

const STRATEGIES: Record<string, Strategy> = {
  randomBytes: (random) => random.bytes(random.int(300)),
  randomAfterMagic: (random, seeds) =>
    concat(seeds[0]!.subarray(0, 4 + random.int(60)), random.bytes(random.int(200))),
  bitFlips: (random, seeds) => {
    const bytes = new Uint8Array(pick(random, seeds));
    for (let flips = 1 + random.int(4); flips > 0; flips--) {
      const bit = random.int(bytes.length * 8);
      bytes[bit >> 3] = bytes[bit >> 3]! ^ (1 << (bit & 7));
    }
    return bytes;
  },
  payloadBitFlip: (random, seeds) => {
    const bytes = new Uint8Array(pick(random, seeds));
    const at = PAYLOAD_START + random.int(bytes.length - PAYLOAD_START);
    bytes[at] = bytes[at]! ^ (1 << random.int(8));
    return bytes;
  },
  byteOverwrite: (random, seeds) => {
    const bytes = new Uint8Array(pick(random, seeds));
    bytes[random.int(bytes.length)] = random.int(256);
    return bytes;
  },
  truncation: (random, seeds) => {
    const bytes = pick(random, seeds);
    return bytes.subarray(0, random.int(bytes.length));
  },
  insertion: (random, seeds) => {
    const bytes = pick(random, seeds);
    const at = random.int(bytes.length + 1);
    return concat(bytes.subarray(0, at), random.bytes(1 + random.int(8)), bytes.subarray(at));
  },
  deletion: (random, seeds) => {
    const bytes = pick(random, seeds);
    const at = random.int(bytes.length);
    return concat(bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(8)));
  },
  splice: (random, seeds) => {
    const a = pick(random, seeds);
    const b = pick(random, seeds);
    return concat(a.subarray(0, random.int(a.length + 1)), b.subarray(random.int(b.length + 1)));
  },
  headerFields: (random, seeds) => {
    // Small random integers in the u8/u16/u32 fields of the header (version, bits, reserved,
    // chunk size, tensor count, ranks, dims) and in the k field.
    const bytes = new Uint8Array(pick(random, seeds));
    const fields = [
      4,
      5,
      6,
      7,
      48,
      49,
      52,
      53,
      54,
      55,
      59,
      63,
      64,
      68,
      72,
      73,
      77,
      PAYLOAD_START,
      PAYLOAD_START + 1,
    ];
    const at = fields[random.int(fields.length)]!;
    bytes[at] = random.int(4) === 0 ? random.int(256) : random.int(12);
    return bytes;
  },
};

describe("update codec: fuzzing the decoder", () => {
  it(
    `${Object.keys(STRATEGIES).length * CASES_PER_STRATEGY} seeded inputs decode to a valid update or throw a CodecError`,
    { timeout: 120_000 },
    () => {
      const random = new SeededRandom(20_240_601);
      const seeds = validEncodings(random);
      const outcomes = new Map<string, number>();
      let accepted = 0;
      let total = 0;
      for (const [name, strategy] of Object.entries(STRATEGIES)) {
        for (let i = 0; i < CASES_PER_STRATEGY; i++) {
          const input = strategy(random, seeds);
          total++;
          let decoded: ReturnType<typeof decodeUpdate>;
          try {
            decoded = decodeUpdate(input, EXPECTED);
          } catch (error) {
            if (!(error instanceof CodecError)) {
              assert.fail(
                `${name} #${i}: ${String(error)} is not a CodecError; input 0x${Buffer.from(input).toString("hex")}`,
              );
            }
            assert.match(error.code, /^CODEC_[A-Z_]+$/);
            outcomes.set(error.code, (outcomes.get(error.code) ?? 0) + 1);
            continue;
          }
          accepted++;
          checkValid(decoded, input, `${name} #${i}`);
        }
      }
      assert.ok(total >= 10_000, `only ${total} inputs`);
      // The mix must reach deep into the decoder, not stop at the magic.
      for (const code of [
        "CODEC_BAD_MAGIC",
        "CODEC_TRUNCATED",
        "CODEC_TRAILING_BYTES",
        "CODEC_SHAPE_MISMATCH",
        "CODEC_BAD_VALUE",
        "CODEC_INDEX_OUT_OF_RANGE",
      ]) {
        assert.ok(
          (outcomes.get(code) ?? 0) > 0,
          `no input was rejected with ${code}: ${JSON.stringify([...outcomes])}`,
        );
      }
      assert.ok(accepted > 100, `only ${accepted} inputs decoded`);
      if (process.env.FUZZ_VERBOSE)
        console.log({ accepted, outcomes: Object.fromEntries(outcomes) });
    },
  );
});

/** What every accepted input must satisfy. */
function checkValid(
  update: ReturnType<typeof decodeUpdate>,
  input: Uint8Array,
  label: string,
): void {
  assert.equal(update.parameterCount, N, label);
  assert.equal(update.indices.length, update.values.length, label);
  for (let i = 0; i < update.indices.length; i++) {
    assert.ok(update.indices[i]! < N, `${label}: index out of range`);
    if (i > 0)
      assert.ok(update.indices[i]! > update.indices[i - 1]!, `${label}: indices not increasing`);
    assert.ok(Number.isFinite(update.values[i]!), `${label}: non-finite value`);
  }
  // The format is canonical: an accepted input is the only spelling of its fields.
  assert.deepEqual(writeUpdateBytes(readUpdateBytes(input)), input, `${label}: not canonical`);
}

function validEncodings(random: SeededRandom): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  for (const bits of [2, 4, 8] as QuantizationBits[]) {
    for (const density of [1 / N, 0.05, 0.3, 1]) {
      for (const chunkSize of [1, 5, 256]) {
        const gradient = random.gaussian(N, 0.1);
        seeds.push(
          encodeUpdate(gradient, {
            modelId: MODEL,
            round: random.int(1000),
            shapes: SHAPES,
            density,
            bits,
            chunkSize,
          }).bytes,
        );
      }
    }
  }
  return seeds;
}

function pick(random: SeededRandom, seeds: Uint8Array[]): Uint8Array {
  return seeds[random.int(seeds.length)]!;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
