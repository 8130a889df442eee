import { modelIdFromName } from "../codec/index.js";
import type { Model } from "../model/model.js";
import { RoundError } from "./round-error.js";
import type { RoundRunParams } from "./round-params.js";

/** Throws ROUND_MODEL_MISMATCH unless the run's `modelId` is keccak256 of this model's id. */
export function assertModelMatchesRun(model: Model, params: RoundRunParams): void {
  const expected = modelIdFromName(model.spec.id);
  if (expected !== params.modelId.toLowerCase()) {
    throw new RoundError(
      `the run trains model ${params.modelId}, but ${model.spec.id} has id ${expected}`,
      {
        code: "ROUND_MODEL_MISMATCH",
        fix: "build the model the run names (createModel with the id whose keccak256 is the run's modelId)",
      },
    );
  }
}
