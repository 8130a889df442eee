import type { DecodeExpectation } from "../codec/index.js";
import type { Model } from "../model/model.js";
import { modelForRun } from "../model/registry.js";
import { roundDecodeRules } from "../round/index.js";
import { roundParamsAt, type RunRecord } from "../history/index.js";

/**
 * What a run's records say about its model and rules in a given round: the on-chain parameters
 * in force (creation parameters, then every governance change from the round it was applied
 * in), the model this build knows for the run's model id, and the decode expectation and size
 * cap every validator applied to that round's updates.
 */

/** The model of the run, or undefined when this build cannot decode the run's updates. */
export function runModel(run: RunRecord): Model | undefined {
  try {
    return modelForRun(run.modelId);
  } catch {
    return undefined;
  }
}

/** What every update of `round` had to satisfy: size cap and, for a known model, the decode rules. */
export function updateRules(
  run: RunRecord,
  round: number,
  fallbackMaxBytes: number,
): { maxBytes: number; expected: Omit<DecodeExpectation, "maxBytes"> | undefined } {
  const model = runModel(run);
  if (model === undefined) return { maxBytes: fallbackMaxBytes, expected: undefined };
  const { maxBytes, ...expected } = roundDecodeRules(model.spec, roundParamsAt(run, round), round);
  return { maxBytes, expected };
}
