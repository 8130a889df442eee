import type { Hex } from "viem";

import { modelIdFromName } from "../codec/model-id.js";
import { ProtolearnError } from "../errors.js";
import { createCharMlp } from "./char-mlp.js";
import { createMnistCnn } from "./cnn.js";
import { createMnistMlp } from "./mlp.js";
import type { Model } from "./model.js";
import { createByteTransformer } from "./transformer.js";

/** The model ids this node can train; a run names one of them. */
export const MODEL_IDS = [
  "mnist-mlp-v1",
  "mnist-cnn-v1",
  "char-mlp-v1",
  "byte-transformer-v1",
] as const;
export type ModelId = (typeof MODEL_IDS)[number];

/**
 * The models the daemon trains: built without options (no dataset-dependent sizes), each fed by
 * its dataset (`loadRunDataset`, data/run-dataset.ts): MNIST for the MNIST models, the State of
 * the Union byte corpus for byte-transformer-v1. char-mlp-v1's sizes depend on its text dataset,
 * which no run loads.
 */
const RUN_MODEL_IDS: readonly ModelId[] = MODEL_IDS.filter((id) => id !== "char-mlp-v1");

/**
 * The byte-level language models: their held-out score, and so a run's on-chain `evalLoss`, is
 * bits per byte (train/evaluate.ts), not a classifier's cross-entropy in nats.
 */
export const LANGUAGE_MODEL_IDS: readonly ModelId[] = ["byte-transformer-v1"];

/** What a run's held-out score (its on-chain `evalLoss`, 1e9-scaled) measures. */
export type EvalMetric = "loss" | "bits-per-byte";

/** A run's on-chain `modelId` (keccak256 of the name, see `modelIdFromName`) → the name. */
const NAME_BY_MODEL_ID: ReadonlyMap<string, ModelId> = new Map(
  MODEL_IDS.map((name) => [modelIdFromName(name), name]),
);

/** What a model needs from its dataset; only the char model has size options. */
export interface ModelOptions {
  /** For `char-mlp-v1`: context length in characters. */
  contextLength?: number;
  /** For `char-mlp-v1`: vocabulary size. */
  vocabularySize?: number;
  /** For `char-mlp-v1`: hidden units (default 256). */
  hidden?: number;
}

/**
 * Builds the model a run names.
 *
 * @example
 * const model = createModel("char-mlp-v1", { contextLength: text.contextLength, vocabularySize: text.numClasses });
 */
export function createModel(id: string, options: ModelOptions = {}): Model {
  switch (id) {
    case "mnist-mlp-v1":
      return createMnistMlp();
    case "mnist-cnn-v1":
      return createMnistCnn();
    case "byte-transformer-v1":
      return createByteTransformer();
    case "char-mlp-v1": {
      const { contextLength, vocabularySize, hidden } = options;
      if (contextLength === undefined || vocabularySize === undefined) {
        throw new ProtolearnError(
          "char-mlp-v1 needs the text dataset's context length and vocabulary size",
          {
            code: "MODEL_MISSING_OPTIONS",
            fix: "load the text dataset first and pass its contextLength and numClasses",
          },
        );
      }
      return createCharMlp({
        contextLength,
        vocabularySize,
        ...(hidden === undefined ? {} : { hidden }),
      });
    }
    default:
      throw new ProtolearnError(`unknown model id ${JSON.stringify(id)}`, {
        code: "MODEL_UNKNOWN",
        fix: `use one of ${MODEL_IDS.join(", ")}`,
      });
  }
}

/**
 * The registry's name for a run's on-chain `modelId` (the keccak256 of the name), or
 * `undefined` when this build does not know the model.
 *
 * @example
 * modelNameForId(modelIdFromName("mnist-mlp-v1")); // "mnist-mlp-v1"
 */
export function modelNameForId(modelId: Hex): ModelId | undefined {
  return NAME_BY_MODEL_ID.get(modelId.toLowerCase());
}

/**
 * The model a run names by its on-chain `modelId`, built as every node of the run builds it: the
 * one lookup from a model id to a model, used by the node daemon and the audit. Throws
 * MODEL_UNSUPPORTED for an id this build does not know, or for a model whose sizes depend on a
 * dataset the node does not load (char-mlp-v1).
 *
 * @example
 * const model = modelForRun((await run.read.params()).modelId);
 */
export function modelForRun(modelId: Hex): Model {
  const name = modelNameForId(modelId);
  if (name === undefined || !RUN_MODEL_IDS.includes(name)) {
    throw new ProtolearnError(`this node cannot train the run's model ${modelId}`, {
      code: "MODEL_UNSUPPORTED",
      fix: `upgrade protolearn; this version's daemon trains ${RUN_MODEL_IDS.join(", ")}`,
    });
  }
  return createModel(name);
}

/**
 * What the on-chain `evalLoss` of a run of `modelId` measures: `bits-per-byte` for a byte-level
 * language model, else `loss` (mean cross-entropy in nats). An unknown model counts as `loss`.
 *
 * @example
 * evalMetricForId(modelIdFromName("byte-transformer-v1")); // "bits-per-byte"
 */
export function evalMetricForId(modelId: Hex): EvalMetric {
  const name = modelNameForId(modelId);
  return name !== undefined && LANGUAGE_MODEL_IDS.includes(name) ? "bits-per-byte" : "loss";
}
