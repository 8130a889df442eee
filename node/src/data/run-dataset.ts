import { ProtolearnError } from "../errors.js";
import type { Model } from "../model/model.js";
import { isByteTransformer } from "../model/transformer.js";
import type { Dataset } from "./dataset.js";
import { loadMnist } from "./mnist.js";
import { loadSotuDataset } from "./sotu.js";

/**
 * The dataset a run's model trains on, as every node of the run loads it: the one lookup from a
 * model to its data, used by the node daemon, the audit's replay and `npm start`'s report.
 *
 * - `mnist-mlp-v1`, `mnist-cnn-v1`: MNIST (`loadMnist`, 9,000 training and 1,000 held-out digits);
 * - `byte-transformer-v1`: the State of the Union byte corpus in windows of the model's context
 *   plus one byte (`loadSotuDataset`), scored in bits per byte.
 *
 * The dataset is part of the run's rules (shards, validation batches and the held-out score all
 * address its examples by index), so it follows from the model id alone. Throws
 * `DATA_MODEL_UNSUPPORTED` for a model no run trains (char-mlp-v1 has its own text dataset).
 *
 * @example
 * const model = modelForRun(runParams.modelId);
 * const dataset = await loadRunDataset(model);
 */
export async function loadRunDataset(model: Model): Promise<Dataset> {
  const id = model.spec.id;
  if (id === "mnist-mlp-v1" || id === "mnist-cnn-v1") return loadMnist();
  if (id === "byte-transformer-v1" && isByteTransformer(model)) return loadSotuDataset(model.config.context);
  throw new ProtolearnError(`no run dataset is defined for model ${id}`, {
    code: "DATA_MODEL_UNSUPPORTED",
    fix: "run one of the models the daemon trains: mnist-mlp-v1, mnist-cnn-v1 or byte-transformer-v1",
  });
}
