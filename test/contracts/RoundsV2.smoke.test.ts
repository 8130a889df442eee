import { expect } from "chai";
import { network } from "hardhat";
import { AGREED_HASH, deployRun, playRound } from "./helpers/deployRun.js";

describe("rounds v2 smoke", () => {
  it("an honest round settles: model agreed, trainers and validators paid", async () => {
    const connection = await network.create();
    const d = await deployRun(connection);
    const info = await d.run.currentRound();
    expect(info.round).to.equal(2n);
    for (const t of d.trainers) {
      const [seat, draw, threshold] = await d.run.seatDraw(t.address);
      expect(seat, `draw ${draw} threshold ${threshold}`).to.equal(true);
    }
    const { round, committee, receipt } = await playRound(d, {
      revealers: d.trainers,
      votes: d.validators.map((v) => ({ validator: v, scores: d.trainers.map(() => 900_000), modelHash: AGREED_HASH })),
    });
    console.log("committee", committee, "gas", receipt?.gasUsed);
    const [hash] = await d.run.model();
    expect(hash).to.equal(AGREED_HASH);
    expect((await d.run.currentRound()).round).to.equal(round + 1n);
    for (const t of d.trainers) {
      const m = await d.run.memberOf(t.address);
      expect(m.rewards > 0n).to.equal(true);
    }
  });
});
