import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { commitmentOf } from "../../node/src/chain/commitment.js";
import {
  AGREED_HASH,
  deployRun,
  events,
  fixRandomness,
  fixRandomnessWhere,
  fundedWallets,
  INITIAL_MODEL_HASH,
  OTHER_HASH,
  Phase,
  playRound,
  randomnessOf,
  Role,
  RoundFailure,
  type RunDeployment,
  seatCounts,
  seatDrawOf,
  seatsOf,
  send,
  SlashReason,
  TEST_RUN_PARAMS,
  timeTo,
  voteCommitmentOf,
  voteFor,
} from "./helpers/deployRun.js";

/**
 * Issue 9, the attacks that broke v1's rounds (../shared/design/protocol-v2.md, S1-S7 and
 * P1-P9). Each test carries out the attack against the v2 contract and asserts that it fails;
 * a comment says why it succeeded under v1's rules. Statistical checks sample many randomness
 * values (deterministic seeds, no timing) and assert within 4 standard deviations.
 */
const connection = await network.create();
const { ethers, networkHelpers } = connection;
const P = TEST_RUN_PARAMS;
const S = BigInt(P.minTrainerStake);
const V = BigInt(P.minValidatorStake);
const C = Number(P.committeeSize);
const coder = AbiCoder.defaultAbiCoder();

/** `n` deterministic randomness values. */
function randomnessValues(label: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => keccak256(coder.encode(["string", "uint256"], [label, i])));
}

/** Seats per sample of the holders in `group`, over `rands` (committeeFor). */
async function seatSamples(d: RunDeployment, rands: string[], groups: string[][]): Promise<number[][]> {
  const out: number[][] = groups.map(() => []);
  for (const rand of rands) {
    const committee = [...(await d.run.committeeFor(rand))];
    const counts = seatCounts(committee);
    groups.forEach((g, i) => out[i]!.push(g.reduce((acc, a) => acc + (counts.get(a.toLowerCase()) ?? 0), 0)));
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Validators with chosen locks (staked `stake` each) join round 1; round 1 is then played empty. */
async function validatorsWithLocks(locks: bigint[]) {
  const d = await deployRun(connection, { trainers: 1, validators: 0, join: false });
  const wallets = [];
  for (const [i, lock] of locks.entries()) {
    const [w] = await fundedWallets(d.core, `locked-validator-${i}`, 1, lock);
    await send(d.run.connect(w!).join(Role.Validator, lock));
    wallets.push(w!);
  }
  return { d, wallets };
}

// ---------------------------------------------------------------- fixtures (named for loadFixture)

/** S1: 16 sybil validators at the minimum lock, one honest validator locking 10x their total. */
const s1Fixture = () => validatorsWithLocks([160n * V, ...Array<bigint>(16).fill(V)]);
/** P1: one validator locking 16 s, 16 locking s each, one honest locking 32 s. */
const p1ValidatorFixture = () => validatorsWithLocks([16n * V, ...Array<bigint>(16).fill(V), 32n * V]);

/** P1: trainers A (16 s), B1..B16 (s each), H (32 s); two expected seats; round 2 open. */
async function p1TrainerFixture() {
  const d = await deployRun(connection, {
    trainers: 18,
    validators: 1,
    trainerStake: 32n * S,
    join: false,
    params: { ...P, trainerSeats: 2 },
  });
  const locks = [16n * S, ...Array<bigint>(16).fill(S), 32n * S];
  for (const [i, t] of d.trainers.entries()) await send(d.run.connect(t).join(Role.Trainer, locks[i]!));
  await playRound(d, { revealers: [], votes: [] });
  return d;
}

/** S2: 4 honest trainers, and an attacker contract whose 64 sybils each lock the minimum. */
async function s2Fixture() {
  const d = await deployRun(connection, {
    trainers: 4,
    validators: 3,
    warmUp: false,
    params: { ...P, maxNodesPerRound: 128, trainerSeats: 64 },
  });
  const filler = await ethers.deployContract("SeatFiller", []);
  await send(d.core.token.connect(d.core.holders[1]!).transfer(await filler.getAddress(), 64n * S));
  for (let i = 0; i < 8; i++) {
    await send(
      filler.enlist(await d.run.getAddress(), await d.core.stakeManager.getAddress(), await d.core.token.getAddress(), 8n, S),
    );
  }
  // round 1 (registration) is played empty; round 2 opens with everybody eligible
  await playRound(d, { revealers: [], votes: [] });
  return { d, filler };
}

const threeValidators = () => deployRun(connection, { trainers: 2, validators: 3 });
const fourValidators = () => deployRun(connection, { trainers: 2, validators: 4 });

describe("Rounds v2: the attacks of issue 9 fail", function () {
  this.timeout(300_000);

  it("S1 (P1): 16 minimum-lock validator identities against one honest validator locking 10x their total hold seats in proportion to stake and never outvote it", async function () {
    const { d, wallets } = await networkHelpers.loadFixture(s1Fixture);
    // v1: a validator's weight was the fixed minimum lock and the 16 vote slots went to the
    // first 16 to submit, so the sybils took every slot and all the vote weight.
    const [honest, ...sybils] = wallets;
    const rands = randomnessValues("S1", 400);
    const [sybilSeats, honestSeats] = await seatSamples(
      d,
      rands,
      [sybils.map((w) => w.address), [honest!.address]],
    );
    const p = 16 / 176; // the sybils' share of the locked stake
    const expected = C * p;
    const sd = Math.sqrt((C * p * (1 - p)) / rands.length);
    const observed = mean(sybilSeats!);
    console.log(`      sybil seats per committee: ${observed.toFixed(3)} (stake share x C = ${expected.toFixed(3)}), max ${Math.max(...sybilSeats!)}`);
    expect(Math.abs(observed - expected)).to.be.lessThan(4 * sd);
    // they never take all the seats, and never hold a third of them, let alone outvote the honest stake
    expect(Math.max(...sybilSeats!)).to.be.lessThan(C / 3);
    for (let i = 0; i < rands.length; i++) expect(sybilSeats![i]! + honestSeats![i]!).to.equal(C);
    expect(mean(honestSeats!)).to.be.greaterThan(C * 0.8);
  });

  it("P1: one identity locking 16 s and 16 identities locking s each get the same expected committee seats", async function () {
    const { d, wallets } = await networkHelpers.loadFixture(p1ValidatorFixture);
    const [whole, ...rest] = wallets;
    const split = rest.slice(0, 16);
    const rands = randomnessValues("P1 committee", 600);
    const [a, b] = await seatSamples(d, rands, [[whole!.address], split.map((w) => w.address)]);
    // multinomial with p_A = p_B = 1/4 per seat: Var(A - B) = C (pA + pB - (pA - pB)^2)
    const sdDiff = Math.sqrt((C * 0.5) / rands.length);
    const sdMean = Math.sqrt((C * 0.25 * 0.75) / rands.length);
    console.log(`      seats per committee: whole ${mean(a!).toFixed(3)}, split ${mean(b!).toFixed(3)} (expected ${C / 4})`);
    expect(Math.abs(mean(a!) - mean(b!))).to.be.lessThan(4 * sdDiff);
    expect(Math.abs(mean(a!) - C / 4)).to.be.lessThan(4 * sdMean);
    expect(Math.abs(mean(b!) - C / 4)).to.be.lessThan(4 * sdMean);
  });

  it("P1: one trainer locking 16 s and 16 trainers locking s each get the same expected number of seats", async function () {
    const d = await networkHelpers.loadFixture(p1TrainerFixture);
    const [a, ...rest] = d.trainers;
    const split = rest.slice(0, 16);
    const info = await d.run.currentRound();
    expect(info.seatTotal).to.equal(64n * S);
    // the thresholds the contract applies, and its draw for the round's actual randomness
    const [, drawA, thresholdA] = await d.run.seatDraw(a!.address);
    expect(drawA).to.equal(seatDrawOf(info.seatRandomness, a!.address));
    const thresholds = await Promise.all(split.map(async (t) => (await d.run.seatDraw(t.address))[2]));
    expect(thresholdA).to.equal(500_000n);
    expect(thresholds.reduce((x, y) => x + y, 0n)).to.equal(500_000n);
    // the same lottery over many randomness values
    const rands = randomnessValues("P1 seats", 4000);
    let seatsA = 0;
    let seatsB = 0;
    for (const rand of rands) {
      if (seatDrawOf(rand, a!.address) < thresholdA) seatsA++;
      split.forEach((t, i) => {
        if (seatDrawOf(rand, t.address) < thresholds[i]!) seatsB++;
      });
    }
    const pA = 0.5;
    const pB = 1 / 32;
    const sd = Math.sqrt((pA * (1 - pA) + 16 * pB * (1 - pB)) / rands.length);
    const diff = seatsA / rands.length - seatsB / rands.length;
    console.log(`      seats per round: whole ${(seatsA / rands.length).toFixed(4)}, split ${(seatsB / rands.length).toFixed(4)} (expected 0.5 each)`);
    expect(Math.abs(diff)).to.be.lessThan(4 * sd);
  });

  it("S2 (P2): a contract settles round r and commits with 64 sybils in the same transaction; honest trainers keep their lottery seats and the sybils win exactly their draws", async function () {
    const { d, filler } = await networkHelpers.loadFixture(s2Fixture);
    // v1: seats were first come, first served up to maxNodesPerRound, so committing in the
    // settle transaction filled every seat and honest trainers never got one.
    const { round, info } = await playRound(d, { revealers: [], votes: [], finalize: false });
    await timeTo(d, info.voteRevealDeadline);
    const sybils: string[] = [];
    for (let i = 0; i < 64; i++) sybils.push(await filler.sybils(i));
    const rand = (await d.run.currentRound()).randomness; // rand_r: round r+1's lottery, fixed long ago
    const total = 4n * S + 64n * S;
    const threshold = (64n * S * 1_000_000n) / total;
    const sybilWinners = sybils.filter((s) => seatDrawOf(rand, s) < threshold).length;
    const honestWinners = d.trainers.filter((t) => seatDrawOf(rand, t.address) < threshold);

    const receipt = await send(filler.settleAndFill(await d.run.getAddress(), round));
    await expect(receipt.hash).to.emit(d.run, "RoundOpened");
    const next = await d.run.currentRound();
    expect(next.round).to.equal(round + 1n);
    expect(next.seatRandomness).to.equal(rand);
    // the sybils got exactly the seats their draws won: being first added none
    expect(events(d, receipt, "Committed")).to.have.length(sybilWinners);
    expect(next.commits).to.equal(BigInt(sybilWinners));
    // every honest winner still commits after the attack
    for (const t of honestWinners) {
      await expect(d.run.connect(t).commit(next.round, keccak256(coder.encode(["address"], [t.address])))).to.emit(d.run, "Committed");
    }
    // in expectation the sybils hold their stake share of the 64 seats (64 x 64 / 68), not the round
    const p = Number(threshold) / 1e6;
    const sd = Math.sqrt(64 * p * (1 - p));
    console.log(`      sybil seats ${sybilWinners} of 64 sybils (expected ${(64 * p).toFixed(1)}), honest seats ${honestWinners.length} of 4`);
    expect(Math.abs(sybilWinners - 64 * p)).to.be.lessThan(4 * sd + 1);
    expect(Number(next.commits) + honestWinners.length).to.be.lessThan(Number(128));
  });

  it("S2 (grinding): identities that join once the lottery's randomness can be known are not eligible for that lottery", async function () {
    const { d } = await networkHelpers.loadFixture(s2Fixture);
    const info = await d.run.currentRound();
    await timeTo(d, info.commitDeadline);
    // after round 2's commit deadline rand_2 (round 3's lottery) is armed; a grinder that picks
    // addresses whose draw wins cannot use them in round 3
    const [grinder] = await fundedWallets(d.core, "grinder", 1, S);
    await expect(d.run.connect(grinder!).join(Role.Trainer, S))
      .to.emit(d.run, "Joined")
      .withArgs(d.runId, grinder!.address, Role.Trainer, S, info.round + 2n);
    await playRound(d, { revealers: [], votes: [] });
    // round 3's lottery total was snapshot before the grinder joined; the grinder has no ticket
    const three = await d.run.currentRound();
    expect(three.seatTotal).to.equal(68n * S);
    const [seat, , threshold] = await d.run.seatDraw(grinder!.address);
    expect([seat, threshold]).to.deep.equal([false, 0n]);
    await expect(d.run.connect(grinder!).commit(three.round, ethers.ZeroHash))
      .to.be.revertedWithCustomError(d.run, "TrainingRunNotYetEligible")
      .withArgs(grinder!.address, three.round, three.round + 1n);
    // a join in round 3's commit phase (rand_2 public) also waits for round 4, drawn on rand_3
    const [late] = await fundedWallets(d.core, "late-grinder", 1, S);
    await expect(d.run.connect(late!).join(Role.Trainer, S))
      .to.emit(d.run, "Joined")
      .withArgs(d.runId, late!.address, Role.Trainer, S, three.round + 1n);
  });

  it("S3 (P5): after governance raises both minimums, the old smaller locks take no seat and no committee seat, and anyone evicts them", async function () {
    const d = await networkHelpers.loadFixture(threeValidators);
    // v1: a minimum rise did not touch existing locks, so governance could not evict the S2
    // seat fillers, and they kept their seats.
    const [t0, t1] = d.trainers;
    const [v0, v1, v2] = d.validators;
    await send(d.run.connect(d.governance).setParams({ ...P, minTrainerStake: 2n * S, minValidatorStake: 2n * V }));
    // t1 and v1 raise their locks in time; the others stay at the old minimum
    await send(d.run.connect(t1!).raiseLock(S));
    await send(d.run.connect(v1!).raiseLock(V));
    await send(d.run.connect(v2!).raiseLock(V));
    await playRound(d, { revealers: [], votes: [] });
    const round = (await d.run.currentRound()).round;
    expect((await d.run.params()).minTrainerStake).to.equal(2n * S);
    // no trainer seat
    const [seat, , threshold] = await d.run.seatDraw(t0!.address);
    expect([seat, threshold]).to.deep.equal([false, 0n]);
    await expect(d.run.connect(t0!).commit(round, ethers.ZeroHash))
      .to.be.revertedWithCustomError(d.run, "TrainingRunLockBelowMinimum")
      .withArgs(t0!.address, S, 2n * S);
    // no committee seat, whatever the randomness
    for (const rand of randomnessValues("S3", 50)) {
      expect(seatsOf([...(await d.run.committeeFor(rand))], v0!.address)).to.equal(0);
    }
    const info = await d.run.currentRound();
    await timeTo(d, info.revealDeadline);
    await fixRandomness(d, round);
    await expect(d.run.connect(v0!).commitVote(round, ethers.ZeroHash))
      .to.be.revertedWithCustomError(d.run, "TrainingRunLockBelowMinimum")
      .withArgs(v0!.address, V, 2n * V);
    await playRound(d, { revealers: [], votes: [] });
    // anyone evicts the stale locks; a lock at the minimum is not stale
    const runAddress = await d.run.getAddress();
    await expect(d.run.connect(d.outsider).evictStale(t1!.address))
      .to.be.revertedWithCustomError(d.run, "TrainingRunLockNotStale")
      .withArgs(t1!.address, 2n * S, 2n * S);
    for (const [node, role, lock] of [
      [t0!, Role.Trainer, S],
      [v0!, Role.Validator, V],
    ] as const) {
      await expect(d.run.connect(d.outsider).evictStale(node.address))
        .to.emit(d.run, "Evicted")
        .withArgs(d.runId, node.address, role, lock, d.outsider.address);
      expect((await d.run.memberOf(node.address)).role).to.equal(Role.None);
      expect(await d.core.stakeManager.lockedBy(runAddress, node.address)).to.equal(0n);
    }
    expect((await d.run.validatorSet())[0]).not.to.include(v0!.address);
  });

  it("S4 (P4): a lazy validator that commits another's vote commitment cannot reveal it and is slashed VoteNotRevealed", async function () {
    const d = await networkHelpers.loadFixture(threeValidators);
    // v1: scores and model hash were posted in the clear, so a lazy validator copied the first
    // vote it saw and was paid like one that did the work.
    const [worker, lazy, third] = d.validators;
    const [t0] = d.trainers;
    const info = await d.run.currentRound();
    const round = info.round;
    const u = { cid: "bafkreilazy", contentHash: keccak256("0x01") as Hex, samples: 1_000n, salt: keccak256("0x02") as Hex };
    await send(d.run.connect(t0!).commit(round, commitmentOf({ runId: d.runId, round, node: t0!.address as Address, ...u })));
    await timeTo(d, info.commitDeadline);
    // all three on the committee, the lazy one with fewer than half the seats (so the update is
    // still decided by the revealed seats)
    await fixRandomnessWhere(
      d,
      round,
      (c) => d.validators.every((v) => seatsOf(c, v.address) > 0) && 2 * seatsOf(c, lazy!.address) < C,
    );
    await send(d.run.connect(t0!).reveal(round, u.cid, u.contentHash, u.samples, u.salt));
    await timeTo(d, info.revealDeadline);
    // the worker scores and aggregates, then commits
    const shaped = await voteFor(d, worker!.address, [900_000]);
    const vote = { runId: d.runId, round, validator: worker!.address, ...shaped, modelHash: AGREED_HASH, evalLoss: 5n, salt: keccak256("0x03") };
    const workerCommit = await send(d.run.connect(worker!).commitVote(round, voteCommitmentOf(vote)));
    const [seen] = events(d, workerCommit, "VoteCommitted");
    // the lazy validator copies the only thing it can see: the commitment hash
    await expect(d.run.connect(lazy!).commitVote(round, seen!.args.commitment)).to.emit(d.run, "VoteCommitted");
    const honest = await voteFor(d, third!.address, [900_000]);
    const thirdVote = { runId: d.runId, round, validator: third!.address, ...honest, modelHash: AGREED_HASH, evalLoss: 5n, salt: keccak256("0x04") };
    await send(d.run.connect(third!).commitVote(round, voteCommitmentOf(thirdVote)));
    await timeTo(d, info.scoreDeadline);
    const revealed = await send(
      d.run.connect(worker!).revealVote(round, vote.seatLengths, vote.scores, vote.modelHash, vote.evalLoss, vote.salt),
    );
    await send(
      d.run.connect(third!).revealVote(round, thirdVote.seatLengths, thirdVote.scores, thirdVote.modelHash, thirdVote.evalLoss, thirdVote.salt),
    );
    // once the worker's vote is public the lazy one replays it: the commitment binds the
    // worker's address (and seats), so the replay does not open the lazy validator's commitment
    const [open] = events(d, revealed, "VoteRevealed");
    const replay = { ...vote, validator: lazy!.address };
    await expect(
      d.run.connect(lazy!).revealVote(round, [...open!.args.seatLengths], [...open!.args.scores], open!.args.modelHash, open!.args.evalLoss, vote.salt),
    )
      .to.be.revertedWithCustomError(d.run, "TrainingRunRevealMismatch")
      .withArgs(round, lazy!.address, voteCommitmentOf(replay), seen!.args.commitment);
    const own = await voteFor(d, lazy!.address, [900_000]);
    await expect(
      d.run.connect(lazy!).revealVote(round, own.seatLengths, own.scores, vote.modelHash, vote.evalLoss, vote.salt),
    ).to.be.revertedWithCustomError(d.run, "TrainingRunRevealMismatch");
    // the committed, unrevealed vote is slashed and unpaid at settlement
    await timeTo(d, info.voteRevealDeadline);
    const receipt = await send(d.run.finalizeRound(round, 1024n));
    const slashed = events(d, receipt, "NodeSlashed").map((e) => [e.args.node, e.args.reason, e.args.amount]);
    expect(slashed).to.deep.equal([[lazy!.address, SlashReason.VoteNotRevealed, (V * BigInt(P.noRevealSlashBps)) / 10_000n]]);
    const settled = new Map(events(d, receipt, "ValidatorSettled").map((e) => [e.args.validator as string, e.args.reward as bigint]));
    expect(settled.get(lazy!.address)).to.equal(0n);
    expect(settled.get(worker!.address)).to.be.greaterThan(0n);
    await expect(receipt.hash).to.emit(d.run, "ModelAgreed");
  });

  it("S5 (P3): the finalizer's choice of block changes neither the next round's seed nor its lottery; the randomness is blockhash(challengeBlock) armed after the commits closed, and an expired challenge re-arms", async function () {
    const d = await networkHelpers.loadFixture(threeValidators);
    // v1: the next seed came from the block in which the finalizer called, who could retry
    // block after block until the seed gave it validation data it had trained on.
    const info = await d.run.currentRound();
    // nobody can arm the challenge while commits are open
    await expect(d.run.armChallenge(info.round))
      .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
      .withArgs(info.round, Phase.Commit, Phase.Reveal);
    await timeTo(d, info.commitDeadline);
    const armed = await send(d.run.connect(d.outsider).armChallenge(info.round));
    const challengeBlock = BigInt(armed.blockNumber) + 1n;
    // the challenge expires unread: 256 blocks later it re-arms on a later block, with no fallback value
    await networkHelpers.mine(300);
    expect((await d.run.currentRound()).randomnessReady).to.equal(false);
    const rearmed = await send(d.run.connect(d.outsider).armChallenge(info.round));
    await expect(rearmed.hash)
      .to.emit(d.run, "ChallengeArmed")
      .withArgs(d.runId, info.round, BigInt(rearmed.blockNumber) + 1n);
    await expect(rearmed.hash).not.to.emit(d.run, "ChallengeFixed");
    expect(BigInt(rearmed.blockNumber) + 1n).to.be.greaterThan(challengeBlock + 256n);
    await fixRandomness(d, info.round);
    const fixed = await d.run.currentRound();
    const block = await ethers.provider.getBlock(Number(fixed.challengeBlock));
    expect(fixed.randomness).to.equal(randomnessOf(block!.hash!, d.runId, info.round));

    await timeTo(d, info.voteRevealDeadline);
    const seeds: string[] = [];
    const lotteries: string[] = [];
    const snapshot = await networkHelpers.takeSnapshot();
    for (const wait of [0, 1, 7, 40]) {
      await snapshot.restore();
      // the finalizer waits `wait` blocks (another block, another timestamp, another prevrandao)
      if (wait > 0) await networkHelpers.mine(wait, { interval: 13 });
      const receipt = await send(d.run.connect(d.outsider).finalizeRound(info.round, 1024n));
      const [opened] = events(d, receipt, "RoundOpened");
      seeds.push(opened!.args.seed as string);
      lotteries.push((await d.run.currentRound()).seatRandomness);
    }
    expect(new Set(seeds).size).to.equal(1);
    expect(new Set(lotteries).size).to.equal(1);
    expect(lotteries[0]).to.equal(fixed.randomness);
    expect(seeds[0]).to.equal(keccak256(coder.encode(["bytes32", "uint256", "uint256"], [fixed.randomness, d.runId, info.round + 1n])));
  });

  it("S7 (P9): a group holding more than 1/3 of the seats withholds agreement; the round fails with NoModelMajority and it earns nothing", async function () {
    const d = await networkHelpers.loadFixture(fourValidators);
    // v1: nobody was paid or slashed without a 2/3 majority, so withholding cost nothing.
    const [h0, h1, w0, w1] = d.validators;
    const honest = [h0!, h1!];
    const withholders = [w0!, w1!];
    const supply = await d.core.token.totalSupply();
    const { receipt, committee } = await playRound(d, {
      revealers: [d.trainers[0]!],
      committeeWhere: (c) => {
        const hs = honest.reduce((a, v) => a + seatsOf(c, v.address), 0);
        const ws = withholders.reduce((a, v) => a + seatsOf(c, v.address), 0);
        return 3 * ws > C && hs > ws && [...honest, ...withholders].every((v) => seatsOf(c, v.address) > 0);
      },
      votes: [
        ...honest.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
        ...withholders.map((v) => ({ validator: v, scores: [900_000], modelHash: OTHER_HASH })),
      ],
    });
    await expect(receipt!.hash).to.emit(d.run, "RoundFailed").withArgs(d.runId, 2n, RoundFailure.NoModelMajority);
    expect((await d.run.currentRound()).modelHash).to.equal(INITIAL_MODEL_HASH);
    const settled = new Map(events(d, receipt, "ValidatorSettled").map((e) => [e.args.validator as string, e]));
    for (const w of withholders) expect([settled.get(w.address)!.args.agreed, settled.get(w.address)!.args.reward]).to.deep.equal([false, 0n]);
    // the strictly largest group (the honest one) is paid the validator pool by its seats
    const hs = honest.reduce((a, v) => a + seatsOf(committee, v.address), 0);
    const pool = (BigInt(P.emissionPerRound) * BigInt(P.validatorShareBps)) / 10_000n;
    for (const h of honest) {
      expect(settled.get(h.address)!.args.reward).to.equal((pool * BigInt(seatsOf(committee, h.address))) / BigInt(hs));
    }
    expect(await d.core.token.totalSupply()).to.be.lessThanOrEqual(supply + pool);
    for (const w of withholders) expect((await d.run.memberOf(w.address)).rewards).to.equal(0n);
  });
});
