import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { bytesToHex, hexToBytes, keccak256, type Hex } from "viem";

import {
  CodecError,
  contentHash,
  decodeUpdate,
  encodeUpdate,
  modelIdFromName,
  quantizationLevels,
  readUpdateBytes,
  toDense,
  topKCount,
  writeUpdateBytes,
  type DecodeExpectation,
  type QuantizationBits,
  type TensorShape,
  type UpdateFields,
} from "../../node/src/codec/index.js";
import { selectTopK } from "../../node/src/codec/top-k.js";
import { readVarint, writeVarint } from "../../node/src/codec/varint.js";
import { SeededRandom } from "./fixtures/prng.js";

const MODEL: Hex = `0x${"11".repeat(32)}`;
const SHAPES: readonly TensorShape[] = [[8, 16], [16], [16, 4], [4]];
const N = 8 * 16 + 16 + 16 * 4 + 4;

function expectation(overrides: Partial<DecodeExpectation> = {}): DecodeExpectation {
  return { modelId: MODEL, shapes: SHAPES, maxBytes: 1 << 20, round: 3, ...overrides };
}

function rejects(run: () => unknown, code: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CodecError, `expected a CodecError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.fix && error.fix.length > 0, "the error carries a fix");
    return true;
  });
}

/** The golden update of docs/update-format.md §Example. */
const GOLDEN_HEX =
  "0x504c5550" +
  "01" +
  "08" +
  "0000" +
  "11".repeat(32) +
  "0700000000000000" +
  "02000000" +
  "0100" +
  "0105000000" +
  "03000000" +
  "00004040" +
  "0000403f" +
  "010201" +
  "fe3ffe";

function golden(): ReturnType<typeof encodeUpdate> {
  return encodeUpdate(new Float32Array([0, 3, 0, -1.5, 0.75]), {
    modelId: MODEL,
    round: 7,
    shapes: [[5]],
    density: 0.6,
    bits: 8,
    chunkSize: 2,
  });
}

describe("update codec: format", () => {
  it("writes the documented example byte for byte", () => {
    const { bytes } = golden();
    assert.equal(bytesToHex(bytes), GOLDEN_HEX);
    assert.equal(bytes.length, 77);
  });

  it("decodes the documented example to the documented values", () => {
    const update = decodeUpdate(hexToBytes(GOLDEN_HEX as Hex), {
      modelId: MODEL,
      shapes: [[5]],
      maxBytes: 77,
      round: 7,
    });
    assert.deepEqual([...update.indices], [1, 3, 4]);
    assert.deepEqual([...update.values], [3, Math.fround((-64 * 3) / 127), 0.75]);
    assert.deepEqual([...toDense(update)], [0, 3, 0, Math.fround((-64 * 3) / 127), 0.75]);
  });

  it("content hash is keccak256 of the bytes and the bytes are reproducible", () => {
    const first = golden().bytes;
    const second = golden().bytes;
    assert.deepEqual(first, second);
    assert.equal(contentHash(first), keccak256(first));
    assert.notEqual(contentHash(first), contentHash(first.subarray(1)));
  });

  it("model id from a name is keccak256 of its UTF-8 bytes", () => {
    assert.equal(
      modelIdFromName("mnist-mlp-v1"),
      keccak256(new TextEncoder().encode("mnist-mlp-v1")),
    );
  });

  it("varints round-trip up to 2^32 - 1 and only the shortest spelling is accepted", () => {
    const buffer = new Uint8Array(5);
    for (const value of [
      0,
      1,
      127,
      128,
      16_383,
      16_384,
      2 ** 21,
      2 ** 28 - 1,
      2 ** 28,
      2 ** 31,
      2 ** 32 - 1,
    ]) {
      const end = writeVarint(buffer, 0, value);
      assert.deepEqual(readVarint(buffer, 0, end), { value, next: end });
    }
    assert.deepEqual(readVarint(new Uint8Array([0x80, 0x00]), 0, 2), { failure: "non-canonical" });
    assert.deepEqual(readVarint(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]), 0, 5), {
      failure: "overlong",
    });
    assert.deepEqual(readVarint(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0, 6), {
      failure: "overlong",
    });
    assert.deepEqual(readVarint(new Uint8Array([0x80, 0x80]), 0, 2), { failure: "truncated" });
  });
});

describe("update codec: top-k", () => {
  it("keeps the largest magnitudes and breaks ties by lower index", () => {
    assert.deepEqual([...selectTopK(new Float32Array([1, -1, 1, -1, 0.5]), 2)], [0, 1]);
    assert.deepEqual([...selectTopK(new Float32Array([0.5, -2, 2, -0, 0]), 3)], [0, 1, 2]);
    assert.deepEqual([...selectTopK(new Float32Array([0, -0, 0, 0]), 2)], [0, 1]);
    assert.deepEqual([...selectTopK(new Float32Array([1e-45, 3e38, -1e-45]), 2)], [0, 1]);
  });

  it("agrees with a full sort on random data full of ties", () => {
    const random = new SeededRandom(11);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + random.int(2000);
      const values = new Float32Array(n);
      // Few distinct magnitudes so ties are everywhere.
      for (let i = 0; i < n; i++)
        values[i] = (random.int(9) - 4) * (trial % 2 === 0 ? 0.25 : 1e-40);
      const k = 1 + random.int(n);
      const reference = [...values.keys()]
        .sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b)
        .slice(0, k)
        .sort((a, b) => a - b);
      assert.deepEqual([...selectTopK(values, k)], reference);
    }
  });

  it("k is round(density · n) clamped to [1, n]", () => {
    assert.equal(topKCount(1000, 0.01), 10);
    assert.equal(topKCount(1000, 0.0001), 1);
    assert.equal(topKCount(10, 1), 10);
    assert.equal(topKCount(5, 0.5), 3);
  });
});

describe("update codec: round trip", () => {
  for (const bits of [8, 4, 2] as QuantizationBits[]) {
    for (const chunkSize of [1, 7, 256]) {
      it(`${bits}-bit values with chunks of ${chunkSize} decode within scale/(2L) of the input`, () => {
        const random = new SeededRandom(bits * 1000 + chunkSize);
        const gradient = random.gaussian(N, 0.01);
        for (let i = 0; i < N; i += 17) gradient[i] = gradient[i]! * 50; // a few outliers
        const { bytes, residual, stats } = encodeUpdate(gradient, {
          modelId: MODEL,
          round: 3,
          shapes: SHAPES,
          density: 0.25,
          bits,
          chunkSize,
        });
        const update = decodeUpdate(bytes, expectation());
        const k = topKCount(N, 0.25);
        assert.equal(update.indices.length, k);
        assert.equal(stats.k, k);
        assert.equal(stats.bytes, bytes.length);
        assert.deepEqual([...update.indices], [...selectTopK(gradient, k)]);

        const levels = quantizationLevels(bits);
        for (let chunk = 0; chunk * chunkSize < k; chunk++) {
          const members = [...update.indices.subarray(chunk * chunkSize, (chunk + 1) * chunkSize)];
          const scale = Math.max(...members.map((index) => Math.abs(gradient[index]!)));
          // Rounding to the nearest level, plus float32 rounding of the decoded value.
          const bound = scale / (2 * levels) + scale * 2 ** -23;
          for (const [offset, index] of members.entries()) {
            const decoded = update.values[chunk * chunkSize + offset]!;
            assert.ok(
              Math.abs(decoded - gradient[index]!) <= bound,
              `index ${index}: ${decoded} vs ${gradient[index]} (bound ${bound})`,
            );
          }
        }
        // The residual is exactly what the receiver did not get.
        const dense = toDense(update);
        for (let i = 0; i < N; i++)
          assert.equal(residual[i], Math.fround(gradient[i]! - dense[i]!));
      });
    }
  }

  it("compresses a 1M-parameter update at 1% density and 8 bits more than 150×", () => {
    const n = 1_000_000;
    const gradient = new SeededRandom(5).gaussian(n);
    const { bytes, stats } = encodeUpdate(gradient, {
      modelId: MODEL,
      round: 0,
      shapes: [[1000, 1000]],
    });
    const update = decodeUpdate(bytes, {
      modelId: MODEL,
      shapes: [[1000, 1000]],
      maxBytes: 64 * 1024,
      round: 0,
    });
    assert.equal(update.indices.length, 10_000);
    assert.ok(stats.compressionRatio > 150, `ratio ${stats.compressionRatio}`);
    assert.equal(
      stats.headerBytes + stats.scaleBytes + stats.indexBytes + stats.valueBytes,
      bytes.length,
    );
  });

  it("error feedback: transmitted updates track the true gradients and the residual stays bounded", () => {
    const random = new SeededRandom(77);
    const n = 2000;
    const rounds = 300;
    const drift = random.gaussian(n, 0.02); // a persistent direction, like a real descent
    const trueSum = new Float64Array(n);
    const sentSum = new Float64Array(n);
    const sentSumNoFeedback = new Float64Array(n);
    let residual: Float32Array | null = null;
    const residualNorms: number[] = [];
    let maxGradientNorm = 0;
    for (let round = 0; round < rounds; round++) {
      const gradient = random.gaussian(n, 0.1);
      for (let i = 0; i < n; i++) gradient[i] = gradient[i]! + drift[i]!;
      maxGradientNorm = Math.max(maxGradientNorm, norm(gradient));
      const options = {
        modelId: MODEL,
        round,
        shapes: [[n]],
        density: 0.05,
        bits: 4 as const,
        chunkSize: 64,
      };
      const encoded = encodeUpdate(gradient, { ...options, residual });
      const plain = encodeUpdate(gradient, options);
      const sent = toDense(
        decodeUpdate(encoded.bytes, { modelId: MODEL, shapes: [[n]], maxBytes: 1 << 20, round }),
      );
      const sentPlain = toDense(
        decodeUpdate(plain.bytes, { modelId: MODEL, shapes: [[n]], maxBytes: 1 << 20, round }),
      );
      for (let i = 0; i < n; i++) {
        trueSum[i] = trueSum[i]! + gradient[i]!;
        sentSum[i] = sentSum[i]! + sent[i]!;
        sentSumNoFeedback[i] = sentSumNoFeedback[i]! + sentPlain[i]!;
      }
      residual = encoded.residual;
      residualNorms.push(encoded.stats.residualNorm);
    }
    const gap = norm(trueSum.map((value, i) => value - sentSum[i]!));
    const gapNoFeedback = norm(trueSum.map((value, i) => value - sentSumNoFeedback[i]!));
    // Σ sent = Σ gradients − final residual (up to float32 rounding).
    assert.ok(
      Math.abs(gap - residualNorms.at(-1)!) <= 1e-3 * norm(trueSum),
      `gap ${gap} vs residual ${residualNorms.at(-1)}`,
    );
    assert.ok(gap / norm(trueSum) < 0.05, `relative gap with feedback ${gap / norm(trueSum)}`);
    assert.ok(
      gapNoFeedback / norm(trueSum) > 0.5,
      `relative gap without feedback ${gapNoFeedback / norm(trueSum)}`,
    );
    // Bounded: the residual does not grow with the number of rounds.
    const early = Math.max(...residualNorms.slice(0, rounds / 2));
    const late = Math.max(...residualNorms.slice(rounds / 2));
    assert.ok(late <= 1.5 * early, `residual grew from ${early} to ${late}`);
    assert.ok(late <= 10 * maxGradientNorm, `residual ${late} vs gradient ${maxGradientNorm}`);
  });
});

describe("update codec: encoder rejects bad requests", () => {
  const gradient = new Float32Array(N);
  const base = { modelId: MODEL, round: 3, shapes: SHAPES };
  it("rejects wrong settings, shapes, residuals and non-finite input", () => {
    rejects(
      () => encodeUpdate(gradient, { ...base, bits: 3 as QuantizationBits }),
      "CODEC_BAD_OPTIONS",
    );
    rejects(() => encodeUpdate(gradient, { ...base, density: 0 }), "CODEC_BAD_OPTIONS");
    rejects(() => encodeUpdate(gradient, { ...base, density: 1.5 }), "CODEC_BAD_OPTIONS");
    rejects(() => encodeUpdate(gradient, { ...base, chunkSize: 0 }), "CODEC_BAD_OPTIONS");
    rejects(() => encodeUpdate(gradient, { ...base, modelId: "0x1234" }), "CODEC_BAD_OPTIONS");
    rejects(() => encodeUpdate(gradient, { ...base, round: -1 }), "CODEC_BAD_OPTIONS");
    rejects(() => encodeUpdate(gradient, { ...base, shapes: [[N - 1]] }), "CODEC_BAD_OPTIONS");
    rejects(() => encodeUpdate(gradient, { ...base, shapes: [[N, 0]] }), "CODEC_BAD_OPTIONS");
    rejects(
      () => encodeUpdate(gradient, { ...base, residual: new Float32Array(3) }),
      "CODEC_BAD_OPTIONS",
    );
    const poisoned = new Float32Array(N);
    poisoned[5] = Number.NaN;
    rejects(() => encodeUpdate(poisoned, base), "CODEC_NON_FINITE_INPUT");
    const residual = new Float32Array(N);
    residual[9] = Number.POSITIVE_INFINITY;
    rejects(() => encodeUpdate(gradient, { ...base, residual }), "CODEC_NON_FINITE_INPUT");
  });
});

describe("update codec: decoder rejects malformed updates", () => {
  const valid = encodeUpdate(new SeededRandom(3).gaussian(N), {
    modelId: MODEL,
    round: 3,
    shapes: SHAPES,
    density: 0.1,
    bits: 4,
    chunkSize: 8,
  });
  const fields = readUpdateBytes(valid.bytes);
  const payloadStart = 54 + SHAPES.reduce((sum, shape) => sum + 1 + 4 * shape.length, 0);

  function patched(at: number, ...bytes: number[]): Uint8Array {
    const copy = new Uint8Array(valid.bytes);
    copy.set(bytes, at);
    return copy;
  }
  function rewritten(change: (fields: UpdateFields) => UpdateFields): Uint8Array {
    return writeUpdateBytes(change(readUpdateBytes(valid.bytes)));
  }

  it("accepts the unmodified update and rewrites it to the same bytes", () => {
    assert.equal(decodeUpdate(valid.bytes, expectation()).indices.length, topKCount(N, 0.1));
    assert.deepEqual(writeUpdateBytes(fields), valid.bytes);
  });

  it("rejects size over the cap before parsing", () => {
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ maxBytes: valid.bytes.length - 1 })),
      "CODEC_TOO_LARGE",
    );
  });

  it("rejects wrong magic, version, bits and reserved bytes", () => {
    rejects(() => decodeUpdate(patched(0, 0x51), expectation()), "CODEC_BAD_MAGIC");
    rejects(() => decodeUpdate(patched(4, 2), expectation()), "CODEC_BAD_VERSION");
    rejects(() => decodeUpdate(patched(5, 3), expectation()), "CODEC_BAD_BITS");
    rejects(() => decodeUpdate(patched(6, 0, 1), expectation()), "CODEC_BAD_RESERVED");
  });

  it("rejects another model, round, tensor layout or run settings", () => {
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ modelId: modelIdFromName("other") })),
      "CODEC_MODEL_MISMATCH",
    );
    rejects(() => decodeUpdate(valid.bytes, expectation({ round: 4 })), "CODEC_ROUND_MISMATCH");
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ shapes: [[16, 8], [16], [16, 4], [4]] })),
      "CODEC_SHAPE_MISMATCH",
    );
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ shapes: [[8, 16], [16], [64], [4]] })),
      "CODEC_SHAPE_MISMATCH",
    );
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ shapes: SHAPES.slice(1) })),
      "CODEC_SHAPE_MISMATCH",
    );
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ params: { bits: 8 } })),
      "CODEC_PARAMS_MISMATCH",
    );
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ params: { chunkSize: 256 } })),
      "CODEC_PARAMS_MISMATCH",
    );
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ params: { maxDensity: 0.05 } })),
      "CODEC_PARAMS_MISMATCH",
    );
    assert.ok(
      decodeUpdate(
        valid.bytes,
        expectation({ params: { bits: 4, chunkSize: 8, maxDensity: 0.1 } }),
      ),
    );
    assert.ok(decodeUpdate(valid.bytes, expectation({ round: undefined })));
  });

  it("rejects bad chunk sizes, shapes and rounds in the header", () => {
    rejects(() => decodeUpdate(patched(48, 0, 0, 0, 0), expectation()), "CODEC_BAD_CHUNK_SIZE");
    rejects(
      () =>
        decodeUpdate(patched(40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), expectation()),
      "CODEC_BAD_ROUND",
    );
    rejects(() => decodeUpdate(patched(52, 0, 0), expectation()), "CODEC_BAD_SHAPE");
    rejects(() => decodeUpdate(patched(54, 9), expectation()), "CODEC_BAD_SHAPE");
    rejects(() => decodeUpdate(patched(55, 0, 0, 0, 0), expectation()), "CODEC_BAD_SHAPE");
  });

  it("rejects k larger than the parameter count, and a huge k in few bytes without allocating it", () => {
    rejects(
      () => decodeUpdate(patched(payloadStart, ...u32(N + 1)), expectation()),
      "CODEC_K_TOO_LARGE",
    );
    // A 2^32 - 2 parameter model and k = 2^32 - 2 declared in a 65-byte update.
    const header = { ...fields.header, shapes: [[0xffff_fffe]] };
    const lying = writeUpdateBytes({
      header,
      scales: new Float32Array(0),
      indices: new Uint32Array(0),
      codes: new Uint8Array(0),
    });
    lying.set(u32(0xffff_fffe), lying.length - 4);
    rejects(
      () => decodeUpdate(lying, { modelId: MODEL, shapes: [[0xffff_fffe]], maxBytes: 1024 }),
      "CODEC_TRUNCATED",
    );
  });

  it("rejects non-finite and negative scales", () => {
    for (const scale of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1]) {
      const bytes = rewritten((f) => ({
        ...f,
        scales: f.scales.map((s, c) => (c === 1 ? scale : s)),
      }));
      rejects(() => decodeUpdate(bytes, expectation()), "CODEC_BAD_SCALE");
    }
  });

  it("rejects indices that repeat, go backwards or leave the model", () => {
    const repeat = rewritten((f) => ({
      ...f,
      indices: f.indices.map((index, i) => (i === 5 ? f.indices[4]! : index)),
    }));
    rejects(() => decodeUpdate(repeat, expectation()), "CODEC_INDEX_NOT_INCREASING");
    const outside = rewritten((f) => ({
      ...f,
      indices: f.indices.map((index, i) => (i === f.indices.length - 1 ? N : index)),
    }));
    rejects(() => decodeUpdate(outside, expectation()), "CODEC_INDEX_OUT_OF_RANGE");
    // Deltas are unsigned: a step backwards can only be spelled as a delta that leaves the model.
    const scalesEnd = payloadStart + 4 + 4 * fields.scales.length;
    const backwards = concat(
      valid.bytes.subarray(0, scalesEnd),
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]),
      valid.bytes.subarray(scalesEnd + 1),
    );
    rejects(() => decodeUpdate(backwards, expectation()), "CODEC_INDEX_OUT_OF_RANGE");
  });

  it("rejects non-canonical and overlong varints", () => {
    const scalesEnd = payloadStart + 4 + 4 * fields.scales.length;
    const first = valid.bytes[scalesEnd]!;
    assert.ok(first < 0x80, "the first delta of this fixture is one byte");
    const spliced = (...replacement: number[]): Uint8Array =>
      concat(
        valid.bytes.subarray(0, scalesEnd),
        new Uint8Array(replacement),
        valid.bytes.subarray(scalesEnd + 1),
      );
    rejects(() => decodeUpdate(spliced(first | 0x80, 0x00), expectation()), "CODEC_BAD_VARINT");
    rejects(
      () => decodeUpdate(spliced(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), expectation()),
      "CODEC_BAD_VARINT",
    );
  });

  it("rejects the unused code, non-zero padding, truncation and trailing bytes", () => {
    rejects(
      () => decodeUpdate(patched(valid.bytes.length - 1, 0xff), expectation()),
      "CODEC_BAD_VALUE",
    );
    const odd = encodeUpdate(new SeededRandom(4).gaussian(N), {
      modelId: MODEL,
      round: 3,
      shapes: SHAPES,
      density: 3 / N,
      bits: 4,
      chunkSize: 8,
    }).bytes;
    const padded = new Uint8Array(odd);
    padded[padded.length - 1] = padded[padded.length - 1]! | 0x10; // k = 3 four-bit codes: the top nibble is padding
    rejects(() => decodeUpdate(padded, expectation()), "CODEC_BAD_PADDING");
    for (const cut of [0, 3, 10, 53, 60, payloadStart + 2, valid.bytes.length - 1]) {
      rejects(() => decodeUpdate(valid.bytes.subarray(0, cut), expectation()), "CODEC_TRUNCATED");
    }
    rejects(
      () => decodeUpdate(concat(valid.bytes, new Uint8Array([0])), expectation()),
      "CODEC_TRAILING_BYTES",
    );
  });

  it("rejects a bad expectation from the caller", () => {
    rejects(() => decodeUpdate(valid.bytes, expectation({ maxBytes: 0 })), "CODEC_BAD_OPTIONS");
    rejects(
      () => decodeUpdate(valid.bytes, expectation({ modelId: "0xabc" })),
      "CODEC_BAD_OPTIONS",
    );
  });
});

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
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
