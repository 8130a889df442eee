import { expect } from "chai";
import { network } from "hardhat";
import {
  eventsOf,
  prepareWorstCaseRound,
  send,
  SlashReason,
  TX_GAS_CAP,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { networkHelpers } = connection;

const worstCaseFixture = () => prepareWorstCaseRound(connection);

/** Three quarters of the EIP-7825 cap: a quarter stays free for future round logic. */
const BUDGET = (TX_GAS_CAP * 3n) / 4n;
/** The last 48 invalid updates cost under 9M gas: the closing call settles them all, then closes. */
const CLOSING_ITEMS = 48n;

describe("TrainingRun: the worst settlement the parameter bounds allow (P7)", function () {
  this.timeout(600_000);

  it("whatever maxItems says, every settlement batch (k = 16, 448 accepted and 64 slashed updates per 512) and the closing call (48 slashes, then 10 validator slashes, the mint and the pool) stay under 3/4 of 2^24 gas", async function () {
    const { d, round, maxNodes } = await networkHelpers.loadFixture(worstCaseFixture);
    const total = BigInt(maxNodes);
    const batches = [];
    // a keeper asking for everything at once, up to the closing stretch
    for (;;) {
      const settled = BigInt((await d.run.currentRound()).settled);
      const left = total - CLOSING_ITEMS - settled;
      if (left <= 0n) break;
      const receipt = await send(d.run.finalizeRound(round, left, { gasLimit: TX_GAS_CAP }));
      await expect(receipt.hash).not.to.emit(d.run, "ModelAgreed");
      batches.push(receipt);
    }
    const closing = await send(d.run.finalizeRound(round, total, { gasLimit: TX_GAS_CAP }));
    const worstBatch = batches.reduce((max, r) => (r.gasUsed > max ? r.gasUsed : max), 0n);
    console.log(
      `      ${batches.length} batches before the closing call, the largest ${worstBatch} gas ` +
        `(${batches.map((r) => r.gasUsed).join(", ")}); closing call ${closing.gasUsed} gas`,
    );

    // the caps, not maxItems, split the work: more than one call before the closing stretch
    expect(batches.length).to.be.greaterThan(1);
    const all = [...batches, closing];
    expect(eventsOf(d, all, "UpdateScored")).to.have.length(maxNodes);
    const reasons = eventsOf(d, [closing], "NodeSlashed").map((e) => e.args.reason as bigint);
    expect(reasons.filter((r) => r === SlashReason.InvalidUpdate)).to.have.length(Number(CLOSING_ITEMS));
    expect(reasons.filter((r) => r === SlashReason.ValidatorDisagreement)).to.have.length(3);
    expect(reasons.filter((r) => r === SlashReason.VoteNotRevealed)).to.have.length(7);
    expect(eventsOf(d, all, "NodeSlashed").filter((e) => e.args.reason === SlashReason.InvalidUpdate)).to.have.length(128);
    await expect(closing.hash).to.emit(d.run, "ModelAgreed");
    await expect(closing.hash).to.emit(d.run, "RoundOpened");

    expect(worstBatch, `worst batch used ${worstBatch} gas`).to.be.lessThan(BUDGET);
    expect(closing.gasUsed, `closing call used ${closing.gasUsed} gas`).to.be.lessThan(BUDGET);
  });
});
