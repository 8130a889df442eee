import { expect } from "chai";
import { network } from "hardhat";
import { phaseAt, phaseName, type RoundPhase } from "../../node/src/run/round-phase.js";
import { AGREED_HASH, deployRun, fixRandomness, playRound, type RunDeployment } from "./helpers/deployRun.js";

const connection = await network.create();
const { networkHelpers } = connection;
const fixture = () => deployRun(connection);

/**
 * The node derives a round's phase from the round's deadlines and the run's flags
 * (node/src/run/round-phase.ts); the contract's `phase()` is the truth. This steps chain time
 * across every deadline (one second before, at, and one second after each) and through a pause
 * (the open round keeps its phases), finalize-while-paused, resume, halt (again the open round
 * keeps its phases) and the halted round's finalize, and checks the two agree at every step.
 */
async function expectMirror(d: RunDeployment, seen: RoundPhase[]): Promise<void> {
  const block = await connection.ethers.provider.getBlock("latest");
  if (!block) throw new Error("no latest block");
  const [info, paused, halted, contractPhase] = await Promise.all([
    d.run.currentRound(),
    d.run.paused(),
    d.run.halted(),
    d.run.phase(),
  ]);
  const node = phaseAt(
    {
      commitDeadline: BigInt(info.commitDeadline),
      revealDeadline: BigInt(info.revealDeadline),
      scoreDeadline: BigInt(info.scoreDeadline),
      voteRevealDeadline: BigInt(info.voteRevealDeadline),
      finalized: info.finalized,
      paused,
      halted,
    },
    BigInt(block.timestamp),
  );
  expect(node, `round ${info.round} at t=${block.timestamp}`).to.equal(phaseName(Number(contractPhase)));
  seen.push(node);
}

/** Mines an empty block at exactly `timestamp`. */
async function mineAt(timestamp: bigint): Promise<void> {
  await networkHelpers.time.setNextBlockTimestamp(timestamp);
  await networkHelpers.mine();
}

describe("the node's round phase mirrors TrainingRun.phase()", function () {
  it("agrees one second before, at and after every deadline of a round", async function () {
    const d = await networkHelpers.loadFixture(fixture);
    const info = await d.run.currentRound();
    const seen: RoundPhase[] = [];
    await expectMirror(d, seen);
    for (const deadline of [info.commitDeadline, info.revealDeadline, info.scoreDeadline, info.voteRevealDeadline]) {
      for (const t of [BigInt(deadline) - 1n, BigInt(deadline), BigInt(deadline) + 1n]) {
        await mineAt(t);
        await expectMirror(d, seen);
      }
    }
    expect(new Set(seen)).to.deep.equal(new Set(["commit", "reveal", "score", "vote-reveal", "finalizable"]));
  });

  it("agrees through a pause (the paused round's deadlines), finalize while paused, resume, the next round's deadlines, halt and the last finalize", async function () {
    const d = await networkHelpers.loadFixture(fixture);
    const seen: RoundPhase[] = [];
    // A round played to its end and finalized: the next round opens, in its commit phase.
    await playRound(d, {
      revealers: d.trainers,
      votes: d.validators.map((v) => ({ validator: v, scores: d.trainers.map(() => 900_000), modelHash: AGREED_HASH })),
    });
    await expectMirror(d, seen);
    // Paused mid-round: the round keeps its phases; step across its deadlines, then finalize.
    await d.run.connect(d.guardian).pause();
    await expectMirror(d, seen);
    const info = await d.run.currentRound();
    const pausedRound: RoundPhase[] = [];
    for (const deadline of [info.commitDeadline, info.revealDeadline, info.scoreDeadline, info.voteRevealDeadline]) {
      await mineAt(BigInt(deadline));
      await expectMirror(d, pausedRound);
      await mineAt(BigInt(deadline) + 1n);
      await expectMirror(d, pausedRound);
    }
    expect(new Set(pausedRound)).to.deep.equal(new Set(["commit", "reveal", "score", "vote-reveal", "finalizable"]));
    seen.push(...pausedRound);
    await fixRandomness(d, info.round);
    await d.run.finalizeRound(info.round, 1024n);
    await expectMirror(d, seen);
    expect(seen.at(-1)).to.equal("paused");
    // Resumed by governance: a new round opens; step across its deadlines.
    await d.run.connect(d.governance).unpause();
    await expectMirror(d, seen);
    const next = await d.run.currentRound();
    expect(next.round).to.equal(info.round + 1n);
    for (const deadline of [next.commitDeadline, next.revealDeadline, next.scoreDeadline, next.voteRevealDeadline]) {
      await mineAt(BigInt(deadline));
      await expectMirror(d, seen);
      await mineAt(BigInt(deadline) + 1n);
      await expectMirror(d, seen);
    }
    // Halted in the finalizable phase: the round still shows finalizable until it is finalized.
    await d.run.connect(d.governance).halt();
    await expectMirror(d, seen);
    expect(seen.at(-1)).to.equal("finalizable");
    await fixRandomness(d, next.round);
    await d.run.finalizeRound(next.round, 1024n);
    await expectMirror(d, seen);
    expect(seen.at(-1)).to.equal("halted");
    expect(new Set(seen)).to.deep.equal(
      new Set(["commit", "reveal", "score", "vote-reveal", "finalizable", "paused", "halted"]),
    );
  });
});
