import { expect } from "chai";
import { network } from "hardhat";
import {
  prepareWorstCaseRound,
  RoundFailure,
  send,
  SlashReason,
  TX_GAS_CAP,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { networkHelpers } = connection;

const worstCaseFixture = () => prepareWorstCaseRound(connection);

describe("TrainingRun: the worst finalize the parameter bounds allow", function () {
  this.timeout(300_000);

  it("fits in one transaction under the 2^24 gas cap: 64 invalid updates and 15 disagreeing validators, all slashed", async function () {
    const { d, round, maxNodes, maxValidators } =
      await networkHelpers.loadFixture(worstCaseFixture);
    const receipt = await send(d.run.finalizeRound(round, { gasLimit: TX_GAS_CAP }));
    const slashes = receipt.logs
      .map((l) => d.run.interface.parseLog(l))
      .filter((e) => e?.name === "NodeSlashed")
      .map((e) => e!.args.reason as bigint);
    expect(slashes.filter((r) => r === SlashReason.InvalidUpdate)).to.have.length(maxNodes);
    expect(slashes.filter((r) => r === SlashReason.ValidatorDisagreement)).to.have.length(
      maxValidators - 1,
    );
    await expect(receipt.hash)
      .to.emit(d.run, "RoundFailed")
      .withArgs(d.runId, round, RoundFailure.TooFewAcceptedUpdates);
    // A StakeManager slash has a fixed cost (it comes out of the run's own lock, no loop), so
    // this is the worst case; a quarter of the cap stays free for future round logic.
    expect(receipt.gasUsed, `worst-case finalize used ${receipt.gasUsed} gas`).to.be.lessThan(
      (TX_GAS_CAP * 3n) / 4n,
    );
  });
});
