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

/**
 * Examples (MNIST images; 129-byte windows for the language model) in each of a validator's two
 * validation batches, per model: part of the scoring rule, so a protocol parameter of the model,
 * not a node's setting — validators that used different sizes would score different batches and
 * their scores would not agree. Every scorer reads it through {@link validationBatchSize}.
 *
 * - MNIST models: 256 images (the MLP scores an update in about 45 ms).
 * - byte-transformer-v1: 32 windows (4,096 predicted bytes). Scoring cost is linear in the size
 *   (wasm, one busy core: 1.8 / 3.6 / 7.7 s an update at 16 / 32 / 64 windows with a reference
 *   norm, 3.0 / 6.8 / 15.8 s without; 256 windows took 40–60 s) while the sign test's honest z
 *   barely moves with it (minimum 50.8 / 52.0 / 52.3 over 16 honest updates, threshold 5):
 *   `npm run bench:scoring -- --model byte-transformer-v1 --sizes 16,64`, docs/validation.md,
 *   "Language model". 32, not 16, for the losses the score is paid on (twice the bytes).
 */
const VALIDATION_BATCH_SIZES: Readonly<Record<ModelId, number>> = {
  "mnist-mlp-v1": 256,
  "mnist-cnn-v1": 256,
  "char-mlp-v1": 256,
  "byte-transformer-v1": 32,
};

/**
 * The validation batch size of a model (its registry name, `model.spec.id`): the one rule every
 * scorer — the validator daemon, `audit --rescore`, the benchmarks — uses, through `scoreUpdate`.
 * Throws MODEL_UNKNOWN for a model the registry does not hold.
 *
 * @example
 * validationBatchSize("mnist-mlp-v1"); // 256
 * validationBatchSize(model.spec.id);
 */
export function validationBatchSize(modelName: string): number {
  const size = Object.hasOwn(VALIDATION_BATCH_SIZES, modelName) ? VALIDATION_BATCH_SIZES[modelName as ModelId] : undefined;
  if (size === undefined) {
    throw new ProtolearnError(`model ${JSON.stringify(modelName)} has no validation batch size`, {
      code: "MODEL_UNKNOWN",
      fix: `score updates of a registered model (${MODEL_IDS.join(", ")}), or pass an explicit batchSize to scoreUpdate in a measurement`,
    });
  }
  return size;
}

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
