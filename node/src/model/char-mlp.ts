import { createMlp } from "./mlp.js";
import type { Model } from "./model.js";

/** Options of {@link createCharMlp}. */
export interface CharMlpOptions {
  /** Characters of context (the text dataset's `contextLength`). */
  contextLength: number;
  /** Vocabulary size (the text dataset's `numClasses`). */
  vocabularySize: number;
  /**
   * Hidden ReLU units.
   * @default 256
   */
  hidden?: number;
}

/**
 * `char-mlp-v1`: a next-character model over a one-hot context window,
 * `[contextLength × vocabulary] → hidden (ReLU) → vocabulary`. Its first layer acts as a
 * per-position character embedding fused with the hidden projection, so it trains on the same
 * hand-written, transpose-free backward pass as the MNIST MLP. The layer sizes are part of the
 * model hash, so two char models over different vocabularies never share a hash.
 */
export function createCharMlp(options: CharMlpOptions): Model {
  const hidden = options.hidden ?? 256;
  return createMlp({
    id: "char-mlp-v1",
    layers: [options.contextLength * options.vocabularySize, hidden, options.vocabularySize],
  });
}
