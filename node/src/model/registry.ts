import { ProtolearnError } from "../errors.js";
import { createCharMlp } from "./char-mlp.js";
import { createMnistCnn } from "./cnn.js";
import { createMnistMlp } from "./mlp.js";
import type { Model } from "./model.js";

/** The model ids this node can train; a run names one of them. */
export const MODEL_IDS = ["mnist-mlp-v1", "mnist-cnn-v1", "char-mlp-v1"] as const;
export type ModelId = (typeof MODEL_IDS)[number];

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
