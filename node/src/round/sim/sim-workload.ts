import type { Dataset } from "../../data/dataset.js";
import { loadMnist } from "../../data/mnist.js";
import { loadSotuDataset } from "../../data/sotu.js";
import { evaluateBitsPerByteAsync } from "../../model/bits-per-byte.js";
import type { Model } from "../../model/model.js";
import { createByteTransformer } from "../../model/transformer.js";
import { createMnistMlp } from "../../model/mlp.js";
import { evaluateAsync } from "../../train/evaluate.js";
import type { SimModelId } from "./sim-config.js";
import type { SimEvaluation } from "./simulate.js";

/**
 * Held-out windows a language-model simulation scores after every round: 64 windows of 129
 * bytes spread over the held-out addresses (8,192 predicted bytes, about 1.3 s on wasm). Twice
 * `DEFAULT_BPB_WINDOWS`, because the comparison with DDP is read at the 1 % level.
 */
export const LM_SIM_EVAL_WINDOWS = 64;

/** What a simulation trains and how it scores the result. */
export interface SimWorkload {
  readonly model: Model;
  readonly dataset: Dataset;
  /**
   * What the reports compare: held-out `accuracy` (a classifier; higher is better) or held-out
   * `bits-per-byte` (a byte-level language model; lower is better).
   */
  readonly metric: "accuracy" | "bits-per-byte";
  /**
   * Scores parameters on the held-out split (the same examples every time). Reads asynchronously,
   * so it also runs on the webgpu backend.
   */
  evaluate(params: Float32Array): Promise<SimEvaluation>;
}

/** Options of {@link loadSimWorkload}. */
export interface SimWorkloadOptions {
  /** Classifier: score only the first `evalLimit` held-out examples. @default all of them */
  evalLimit?: number;
  /** Language model: held-out windows scored. @default LM_SIM_EVAL_WINDOWS (64) */
  evalWindows?: number;
}

/**
 * The model, dataset and held-out score of a simulation: `mnist-mlp-v1` on MNIST (loss and
 * accuracy on the 1,000 held-out digits) or `byte-transformer-v1` on the State of the Union
 * corpus (bits per byte on {@link LM_SIM_EVAL_WINDOWS} evenly spaced held-out windows; accuracy
 * is `NaN`, the model has no single label per example).
 *
 * @example
 * const work = await loadSimWorkload("byte-transformer-v1");
 * (await work.evaluate(genesis.params)).bitsPerByte; // ≈ 8.02 for the genesis model
 */
export async function loadSimWorkload(
  id: SimModelId,
  options: SimWorkloadOptions = {},
): Promise<SimWorkload> {
  if (id === "byte-transformer-v1") {
    const model = createByteTransformer();
    const dataset = loadSotuDataset(model.config.context);
    const windows = options.evalWindows ?? LM_SIM_EVAL_WINDOWS;
    return {
      model,
      dataset,
      metric: "bits-per-byte",
      async evaluate(params) {
        const score = await evaluateBitsPerByteAsync(model, params, dataset, { windows });
        return { evalLoss: score.loss, evalAccuracy: Number.NaN, bitsPerByte: score.bitsPerByte };
      },
    };
  }
  const model = createMnistMlp();
  const dataset = await loadMnist();
  const evalOptions = options.evalLimit === undefined ? {} : { limit: options.evalLimit };
  return {
    model,
    dataset,
    metric: "accuracy",
    async evaluate(params) {
      const e = await evaluateAsync(model, params, dataset, evalOptions);
      return { evalLoss: e.loss, evalAccuracy: e.accuracy };
    },
  };
}
