import { createHash } from "node:crypto";

import { ProtolearnError } from "../errors.js";
import type { Batch, Dataset, Split } from "./dataset.js";

/** One text of a corpus, with the key that orders it and names it in a split. */
export interface CorpusDocument {
  /** Stable name, unique in the corpus, e.g. `1790 George Washington`. */
  key: string;
  text: string;
}

/** A byte-level corpus cut into a training and a held-out stream of whole documents. */
export interface ByteCorpus {
  /** Stable id of the bytes and the split: `<name>:<first 8 bytes of sha256>`. */
  readonly id: string;
  /** Each split's documents, UTF-8 encoded and each followed by `\n`, concatenated in order. */
  readonly bytes: Readonly<Record<Split, Uint8Array>>;
  /** The keys of each split's documents, in stream order. */
  readonly documents: Readonly<Record<Split, readonly string[]>>;
}

/**
 * Splits documents (already in their fixed order) into a byte corpus: every `heldOutEvery`-th
 * document (positions `heldOutEvery − 1`, `2·heldOutEvery − 1`, …) is held out, the rest is
 * training data. Holding out whole documents spread over the order (not the last ones) keeps
 * the held-out text from the same eras as the training text, and no held-out byte is trained on.
 *
 * @example
 * const corpus = byteCorpusFromDocuments("sotu-v1:h10", addresses, 10);
 */
export function byteCorpusFromDocuments(
  name: string,
  documents: readonly CorpusDocument[],
  heldOutEvery: number,
): ByteCorpus {
  if (!Number.isInteger(heldOutEvery) || heldOutEvery < 2 || documents.length < heldOutEvery) {
    throw new ProtolearnError(
      `cannot hold out every ${heldOutEvery}th of ${documents.length} documents`,
      {
        code: "DATA_BAD_OPTIONS",
        fix: "use heldOutEvery ≥ 2 and at most the number of documents",
      },
    );
  }
  const encoder = new TextEncoder();
  const parts: Record<Split, Uint8Array[]> = { train: [], eval: [] };
  const keys: Record<Split, string[]> = { train: [], eval: [] };
  documents.forEach((document, i) => {
    const split: Split = i % heldOutEvery === heldOutEvery - 1 ? "eval" : "train";
    parts[split].push(encoder.encode(`${document.text}\n`));
    keys[split].push(document.key);
  });
  const bytes = { train: concat(parts.train), eval: concat(parts.eval) };
  const hash = createHash("sha256");
  const lengths = Buffer.alloc(16);
  lengths.writeBigUInt64LE(BigInt(bytes.train.length), 0);
  lengths.writeBigUInt64LE(BigInt(bytes.eval.length), 8);
  hash.update(lengths).update(bytes.train).update(bytes.eval);
  return {
    id: `${name}:${hash.digest("hex").slice(0, 16)}`,
    bytes,
    documents: keys,
  };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A next-byte dataset: each example is a window of `contextLength + 1` bytes of one split. */
export interface ByteWindowDataset extends Dataset {
  /** Bytes a model reads per window; a window holds one more (the last target). */
  readonly contextLength: number;
  /** The corpus the windows are cut from. */
  readonly corpus: ByteCorpus;
}

/**
 * Fixed windows over a byte corpus, served through the {@link Dataset} interface so that shards,
 * seeded batch indices and validators work unchanged. Example `i` of a split is the bytes
 * `[i·C, i·C + C + 1)` of that split's stream (C = `contextLength`): consecutive windows share
 * one byte, so every byte after the first is a target exactly once. `x` holds the window's byte
 * values (`[n × (C + 1)]`, exact in float32), `y` its last byte; 256 classes.
 *
 * @example
 * const data = createByteWindowDataset(corpus, 128);
 * const batch = data.batch("train", shardBatchIndices(source));
 */
export function createByteWindowDataset(
  corpus: ByteCorpus,
  contextLength: number,
): ByteWindowDataset {
  if (!Number.isInteger(contextLength) || contextLength < 1) {
    throw new ProtolearnError(`context length ${contextLength} is not a positive integer`, {
      code: "DATA_BAD_OPTIONS",
      fix: "use the model's context length (e.g. 128)",
    });
  }
  const width = contextLength + 1;
  const windows = (split: Split): number =>
    Math.max(0, Math.floor((corpus.bytes[split].length - 1) / contextLength));
  const size: Record<Split, number> = { train: windows("train"), eval: windows("eval") };
  if (size.train < 1 || size.eval < 1) {
    throw new ProtolearnError(
      `corpus ${corpus.id} (${corpus.bytes.train.length} train, ${corpus.bytes.eval.length} held-out bytes) has no window of ${width} bytes in a split`,
      { code: "DATA_TEXT_TOO_SHORT", fix: "use more documents or a shorter context" },
    );
  }

  function batch(split: Split, indices: readonly number[]): Batch {
    const stream = corpus.bytes[split];
    const x = new Float32Array(indices.length * width);
    const y = new Int32Array(indices.length);
    indices.forEach((index, row) => {
      if (!Number.isInteger(index) || index < 0 || index >= size[split]) {
        throw new ProtolearnError(`byte ${split} window ${index} is outside [0, ${size[split]})`, {
          code: "DATA_INDEX_RANGE",
          fix: "derive batch indices with shardBatchIndices() for this dataset",
        });
      }
      const start = index * contextLength;
      x.set(stream.subarray(start, start + width), row * width);
      y[row] = stream[start + contextLength] as number;
    });
    return { size: indices.length, x, y };
  }

  return {
    id: `${corpus.id}:c${contextLength}`,
    exampleShape: [width],
    numClasses: 256,
    size,
    batch,
    contextLength,
    corpus,
  };
}
