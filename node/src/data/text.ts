import { readFile } from "node:fs/promises";

import { keccak256 } from "viem";
import { z } from "zod";

import { ProtolearnError } from "../errors.js";
import type { Batch, Dataset, Split } from "./dataset.js";

/** Options of {@link loadTextDataset}, validated with {@link textDatasetOptionsSchema}. */
export const textDatasetOptionsSchema = z.object({
  /** Characters of context the model sees before predicting the next one. @default 16 */
  contextLength: z.number().int().min(1).max(1024).default(16),
  /** Share of target positions, taken from the end of the file, held out for evaluation. @default 0.1 */
  evalFraction: z.number().gt(0).lt(1).default(0.1),
  /** Largest vocabulary accepted (the one-hot input has contextLength × vocabulary values). @default 128 */
  maxVocabulary: z.number().int().min(2).max(65_536).default(128),
});
export type TextDatasetOptions = z.input<typeof textDatasetOptionsSchema>;

/** A character-level next-character dataset; inputs are one-hot context windows. */
export interface TextDataset extends Dataset {
  /** The characters of the vocabulary, sorted by code point; a class label indexes into it. */
  readonly vocabulary: readonly string[];
  /** Context window length in characters. */
  readonly contextLength: number;
}

/**
 * A next-character dataset from a local UTF-8 text file.
 *
 * - Vocabulary: the distinct characters (code points) of the file, sorted by code point.
 * - Example `t` (for `t` from `contextLength` to the file's length − 1): the `contextLength`
 *   characters before position `t`, one-hot encoded (`[contextLength × vocabulary]` values), with
 *   the character at `t` as its label.
 * - Split: the last `evalFraction` of the target positions are held out; as they are contiguous,
 *   no held-out target ever appears as a training target.
 * - Id: `text-v1:<first 8 bytes of keccak256(file bytes)>:c<contextLength>:e<evalFraction>`, so nodes of one run
 *   can check that they read the same file.
 */
export async function loadTextDataset(
  path: string,
  options: TextDatasetOptions = {},
): Promise<TextDataset> {
  const parsedOptions = textDatasetOptionsSchema.safeParse(options);
  if (!parsedOptions.success) {
    throw new ProtolearnError(
      `text dataset options are not valid: ${parsedOptions.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      {
        code: "DATA_BAD_OPTIONS",
        fix: "use a contextLength from 1 to 1024 and an evalFraction strictly between 0 and 1",
      },
    );
  }
  const { contextLength, evalFraction, maxVocabulary } = parsedOptions.data;
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (cause) {
    throw new ProtolearnError(`cannot read the text file ${path}`, {
      code: "DATA_TEXT_UNREADABLE",
      fix: "check the path given as the text dataset and that the node may read it",
      cause,
    });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch (cause) {
    throw new ProtolearnError(`${path} is not valid UTF-8`, {
      code: "DATA_TEXT_ENCODING",
      fix: "convert the file to UTF-8 (e.g. `iconv -t utf-8`)",
      cause,
    });
  }
  const chars = Array.from(text);
  const vocabulary = [...new Set(chars)].sort(
    (a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number),
  );
  if (vocabulary.length < 2 || vocabulary.length > maxVocabulary) {
    throw new ProtolearnError(
      `${path} has ${vocabulary.length} distinct characters; a char model needs 2 to ${maxVocabulary}`,
      {
        code: "DATA_TEXT_VOCABULARY",
        fix: "use a text with a smaller alphabet (e.g. strip rare symbols) or raise maxVocabulary",
      },
    );
  }
  const classOf = new Map(vocabulary.map((c, i) => [c, i]));
  const tokens = Int32Array.from(chars, (c) => classOf.get(c) as number);
  const targets = tokens.length - contextLength;
  const evalSize = Math.floor(targets * evalFraction);
  const trainSize = targets - evalSize;
  if (trainSize < 1 || evalSize < 1) {
    throw new ProtolearnError(
      `${path} has ${tokens.length} characters, too few for a context of ${contextLength} and a held-out split`,
      {
        code: "DATA_TEXT_TOO_SHORT",
        fix: "use a longer text file or a shorter contextLength",
      },
    );
  }
  const v = vocabulary.length;
  const inputSize = contextLength * v;
  const offset: Record<Split, number> = { train: contextLength, eval: contextLength + trainSize };
  const size: Record<Split, number> = { train: trainSize, eval: evalSize };

  function batch(split: Split, indices: readonly number[]): Batch {
    const x = new Float32Array(indices.length * inputSize);
    const y = new Int32Array(indices.length);
    indices.forEach((index, row) => {
      if (!Number.isInteger(index) || index < 0 || index >= size[split]) {
        throw new ProtolearnError(`text ${split} index ${index} is outside [0, ${size[split]})`, {
          code: "DATA_INDEX_RANGE",
          fix: "derive batch indices with shardBatchIndices() for this dataset",
        });
      }
      const target = offset[split] + index;
      for (let c = 0; c < contextLength; c++) {
        x[row * inputSize + c * v + (tokens[target - contextLength + c] as number)] = 1;
      }
      y[row] = tokens[target] as number;
    });
    return { size: indices.length, x, y };
  }

  const fileId = keccak256(new Uint8Array(raw)).slice(0, 18);
  return {
    id: `text-v1:${fileId}:c${contextLength}:e${evalFraction}`,
    exampleShape: [inputSize],
    numClasses: v,
    size,
    batch,
    vocabulary,
    contextLength,
  };
}
