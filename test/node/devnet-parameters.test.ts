import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_RUN_PARAMS, LM_RUN_PARAMS } from "../../ignition/modules/defaults.js";
import { runModelName } from "../../node/src/deploy/deploy-system.js";
import { modelRunParameters } from "../../node/src/devnet/model-parameters.js";

describe("protolearn devnet --model (modelRunParameters)", () => {
  it("gives run 1 the chosen model's run parameters", () => {
    assert.deepEqual(modelRunParameters("mnist-mlp-v1").runParams, DEFAULT_RUN_PARAMS);
    const lm = modelRunParameters("byte-transformer-v1");
    assert.deepEqual(lm.runParams, LM_RUN_PARAMS);
    // deploySystem builds run 1's genesis model from the id these parameters name.
    assert.equal(runModelName(lm), "byte-transformer-v1");
    assert.equal(runModelName(modelRunParameters("mnist-mlp-v1")), "mnist-mlp-v1");
  });

  it("keeps the other parameters and lets a parameters file override single run fields", () => {
    const merged = modelRunParameters("byte-transformer-v1", {
      timelockDelay: 60n,
      runParams: { commitDuration: 120 },
    });
    assert.equal(merged.timelockDelay, 60n);
    assert.deepEqual(merged.runParams, { ...LM_RUN_PARAMS, commitDuration: 120 });
  });
});
