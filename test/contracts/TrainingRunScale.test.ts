import { expect } from "chai";
import { network } from "hardhat";
import {
  AGREED_HASH,
  deployRun,
  eventsOf,
  playRound,
  settleRound,
  TEST_RUN_PARAMS,
  TX_GAS_CAP,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const TRAINERS = 1024;
const params = {
  ...TEST_RUN_PARAMS,
  maxNodesPerRound: TRAINERS,
  trainerSeats: TRAINERS,
  committeeSize: 16,
  scorersPerUpdate: 4,
};

/** 1,024 trainers and 16 validators, each locking the minimum; round 2 open, everyone seated. */
const scaleFixture = () =>
  deployRun(connection, {
    trainers: TRAINERS,
    validators: 16,
    params,
    trainerStake: BigInt(params.minTrainerStake),
    validatorStake: BigInt(params.minValidatorStake),
  });

describe("TrainingRun at 1,024 trainers (P7)", function () {
  this.timeout(900_000);

  it("a 1,024-trainer round with the largest committee (C = 16, k = 4) settles in batches anyone sends, and no transaction of the round uses more than 2^24 gas", async function () {
    const d = await networkHelpers.loadFixture(scaleFixture);
    const first = await ethers.provider.getBlockNumber();
    const { round, committee } = await playRound(d, {
      revealers: d.trainers,
      votes: d.validators.map((v) => ({ validator: v, scores: d.trainers.map(() => 900_000), modelHash: AGREED_HASH })),
      finalize: false,
    });
    // a keeper asks for everything; the contract's caps split the work
    const batches = await settleRound(d, round, TRAINERS);
    const last = await ethers.provider.getBlockNumber();

    expect(eventsOf(d, batches, "UpdateScored").filter((e) => e.args.accepted)).to.have.length(TRAINERS);
    await expect(batches.at(-1)!.hash).to.emit(d.run, "ModelAgreed");
    expect((await d.run.currentRound()).round).to.equal(round + 1n);

    // every transaction of the round, one per automined block
    let largest = 0n;
    let largestBlock = 0;
    for (let n = first + 1; n <= last; n++) {
      const block = await ethers.provider.getBlock(n);
      if (block!.gasUsed > largest) [largest, largestBlock] = [block!.gasUsed, n];
    }
    const largestTx = (await ethers.provider.getBlock(largestBlock, true))!.prefetchedTransactions[0];
    const selector = largestTx ? d.run.interface.parseTransaction(largestTx)?.name ?? largestTx.data.slice(0, 10) : "?";
    console.log(
      `      ${new Set(committee).size} validators on the committee; settlement in ${batches.length} batches: ` +
        `${batches.map((r) => r.gasUsed).join(", ")} gas; largest transaction of the round ${largest} gas (${selector})`,
    );
    expect(largest).to.be.lessThanOrEqual(TX_GAS_CAP);
    for (const r of batches) expect(r.gasUsed).to.be.lessThanOrEqual(TX_GAS_CAP);
  });
});
