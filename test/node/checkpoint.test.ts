import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { createModel } from "../../node/src/model/registry.js";
import { decodeCheckpoint, encodeCheckpoint, maxCheckpointBytes } from "../../node/src/run/checkpoint.js";
import { genesisModel } from "../../node/src/run/genesis.js";

describe("checkpoint format", () => {
  const model = createModel("mnist-mlp-v1");

  it("round-trips parameters and momentum bit for bit, and parameters alone", async () => {
    const { params } = await genesisModel(model);
    const momentum = params.map((v) => v / 3);
    const both = decodeCheckpoint(model.spec, encodeCheckpoint(model.spec, params, momentum));
    assert.deepEqual(both.params, params);
    assert.deepEqual(both.momentum, momentum);
    const alone = decodeCheckpoint(model.spec, encodeCheckpoint(model.spec, params, undefined));
    assert.deepEqual(alone.params, params);
    assert.equal(alone.momentum, undefined);
    assert.equal(encodeCheckpoint(model.spec, params, momentum).length, maxCheckpointBytes(model.spec));
  });

  it("rejects a truncated checkpoint, another model's checkpoint, a bad flag and non-finite values", async () => {
    const { params } = await genesisModel(model);
    const bytes = encodeCheckpoint(model.spec, params, params);
    assert.throws(() => decodeCheckpoint(model.spec, bytes.subarray(0, bytes.length - 1)), /CHECKPOINT|not a mnist-mlp-v1 checkpoint/);
    const cnn = createModel("mnist-cnn-v1");
    const cnnBytes = encodeCheckpoint(cnn.spec, (await genesisModel(cnn)).params, undefined);
    assert.throws(() => decodeCheckpoint(model.spec, cnnBytes), /not a mnist-mlp-v1 checkpoint/);
    const flag = encodeCheckpoint(model.spec, params, undefined);
    flag[flag.length - 1] = 7;
    assert.throws(() => decodeCheckpoint(model.spec, flag), /momentum flag 7/);
    const nan = encodeCheckpoint(model.spec, params, undefined);
    new DataView(nan.buffer).setFloat32(nan.length - 5, Number.NaN, true);
    assert.throws(() => decodeCheckpoint(model.spec, nan), /is NaN/);
  });
});
