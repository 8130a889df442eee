import { expect } from "chai";
import { network } from "hardhat";
import {
  events,
  prepareWorstCaseRound,
  RoundFailure,
  send,
  SlashReason,
  TX_GAS_CAP,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { networkHelpers } = connection;

const worstCaseFixture = () => prepareWorstCaseRound(connection);

/** Three quarters of the EIP-7825 cap: a quarter stays free for future round logic. */
const BUDGET = (TX_GAS_CAP * 3n) / 4n;

describe("TrainingRun: the worst settlement the parameter bounds allow (P7)", function () {
  this.timeout(600_000);

  it("the worst batch (64 invalid updates, 16 scorer seats each, 64 slashes) and the worst closing call (64 more, then 10 validator slashes) each stay under 3/4 of 2^24 gas", async function () {
    const { d, round, batch, maxNodes } = await networkHelpers.loadFixture(worstCaseFixture);
    const first = await send(d.run.finalizeRound(round, batch, { gasLimit: TX_GAS_CAP }));
    expect(events(d, first, "NodeSlashed").map((e) => e.args.reason)).to.deep.equal(
      Array(batch).fill(SlashReason.InvalidUpdate),
    );
    await expect(first.hash).not.to.emit(d.run, "RoundFailed");
    expect((await d.run.currentRound()).settled).to.equal(BigInt(batch));

    const closing = await send(d.run.finalizeRound(round, batch, { gasLimit: TX_GAS_CAP }));
    const reasons = events(d, closing, "NodeSlashed").map((e) => e.args.reason as bigint);
    expect(reasons.filter((r) => r === SlashReason.InvalidUpdate)).to.have.length(maxNodes - batch);
    expect(reasons.filter((r) => r === SlashReason.ValidatorDisagreement)).to.have.length(3);
    expect(reasons.filter((r) => r === SlashReason.VoteNotRevealed)).to.have.length(7);
    await expect(closing.hash)
      .to.emit(d.run, "RoundFailed")
      .withArgs(d.runId, round, RoundFailure.TooFewAcceptedUpdates);
    await expect(closing.hash).to.emit(d.run, "RoundOpened");

    console.log(
      `      worst batch of ${batch}: ${first.gasUsed} gas (${first.gasUsed / BigInt(batch)} per item); ` +
        `worst closing call: ${closing.gasUsed} gas`,
    );
    expect(first.gasUsed, `worst batch used ${first.gasUsed} gas`).to.be.lessThan(BUDGET);
    expect(closing.gasUsed, `worst closing call used ${closing.gasUsed} gas`).to.be.lessThan(BUDGET);
  });
});
