import { expect } from "chai";
import { network } from "hardhat";
import { deployRun, Role, TEST_RUN_PARAMS } from "./helpers/deployRun.js";

const connection = await network.create();
const { networkHelpers } = connection;
const CID = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";

/** Round 1 open (no warm-up round), checkpoints every round or every second round. */
const fixture = () =>
  deployRun(connection, { params: { ...TEST_RUN_PARAMS, checkpointEvery: 1 }, warmUp: false });
const everyTwo = () =>
  deployRun(connection, { params: { ...TEST_RUN_PARAMS, checkpointEvery: 2 }, warmUp: false });

describe("TrainingRun: checkpoint announcements", function () {
  it("announceCheckpoint by a validator emits CheckpointAnnounced with the CID (an event, no state)", async function () {
    const d = await networkHelpers.loadFixture(fixture);
    const validator = d.validators[0]!;
    await expect(d.run.connect(validator).announceCheckpoint(1n, CID))
      .to.emit(d.run, "CheckpointAnnounced")
      .withArgs(d.runId, 1n, validator.address, CID);
  });

  it("announceCheckpoint reverts for a trainer and for an outsider", async function () {
    const d = await networkHelpers.loadFixture(fixture);
    await expect(d.run.connect(d.trainers[0]!).announceCheckpoint(1n, CID))
      .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
      .withArgs(d.trainers[0]!.address, Role.Trainer, Role.Validator);
    await expect(d.run.connect(d.outsider).announceCheckpoint(1n, CID))
      .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
      .withArgs(d.outsider.address, Role.None, Role.Validator);
  });

  it("announceCheckpoint reverts for a future round, round 0 and a round off the checkpointEvery grid", async function () {
    const d = await networkHelpers.loadFixture(everyTwo);
    const validator = d.validators[0]!;
    await expect(d.run.connect(validator).announceCheckpoint(2n, CID))
      .to.be.revertedWithCustomError(d.run, "TrainingRunNotCheckpointRound")
      .withArgs(2n, 2n, 1n);
    await expect(d.run.connect(validator).announceCheckpoint(0n, CID))
      .to.be.revertedWithCustomError(d.run, "TrainingRunNotCheckpointRound")
      .withArgs(0n, 2n, 1n);
    await expect(d.run.connect(validator).announceCheckpoint(1n, CID))
      .to.be.revertedWithCustomError(d.run, "TrainingRunNotCheckpointRound")
      .withArgs(1n, 2n, 1n);
  });

  it("announceCheckpoint reverts for an empty CID", async function () {
    const d = await networkHelpers.loadFixture(fixture);
    await expect(d.run.connect(d.validators[0]!).announceCheckpoint(1n, ""))
      .to.be.revertedWithCustomError(d.run, "TrainingRunCidLength")
      .withArgs(0n, 128n);
  });
});
