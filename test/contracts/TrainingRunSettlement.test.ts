import { expect } from "chai";
import { AbiCoder, type ContractTransactionReceipt, keccak256 } from "ethers";
import { network } from "hardhat";
import type { Address } from "viem";
import { commitmentOf } from "../../node/src/chain/commitment.js";
import { createRng } from "../../node/src/random/rng.js";
import { ONE } from "./helpers/deployCore.js";
import {
  agreeingHolders,
  agreementsOf,
  AGREED_HASH,
  deployRun,
  events,
  expectedUpdate,
  fundedWallets,
  INITIAL_MODEL_HASH,
  lowerMedian,
  makeUpdate,
  OTHER_HASH,
  playRound,
  Role,
  RoundFailure,
  type RoundPlan,
  SCORE_AGREEMENT_PPM,
  type RunDeployment,
  seatCounts,
  seatsOf,
  send,
  SlashReason,
  TEST_RUN_PARAMS,
  timeTo,
  type VotePlan,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const P = TEST_RUN_PARAMS;
const EMISSION = BigInt(P.emissionPerRound);
const VALIDATOR_POOL = (EMISSION * BigInt(P.validatorShareBps)) / 10_000n;
const TRAINER_POOL = EMISSION - VALIDATOR_POOL;
const MAX_SAMPLES = BigInt(P.innerSteps) * BigInt(P.batchSize);
const C = Number(P.committeeSize);

const runFixture = () => deployRun(connection, { trainers: 6, validators: 3 });
const fourValidatorsFixture = () => deployRun(connection, { trainers: 2, validators: 4 });

/** Every validator of the run holds at least one committee seat. */
const allSeated = (d: RunDeployment) => (committee: string[]) =>
  d.validators.every((v) => seatsOf(committee, v.address) > 0);

/** A validator's share of the validator pool: pool x its weight / the paid weight (rounded down). */
const share = (seats: number, paidSeats: number) => (VALIDATOR_POOL * BigInt(seats)) / BigInt(paidSeats);

/** Plays a round and returns, besides playRound's result, the TypeScript reference of every update's outcome. */
async function playScored(d: RunDeployment, plan: RoundPlan & { votes: VotePlan[] }) {
  const played = await playRound(d, { ...plan, finalize: false });
  const revealed = new Map<string, number[]>();
  for (const v of plan.votes) {
    if (v.reveal !== false && seatsOf(played.committee, v.validator.address) > 0)
      revealed.set(v.validator.address.toLowerCase(), v.scores);
  }
  const expected = [];
  /** per revealed update, its k scorer seats (read before settlement opens the next round) */
  const scorers: bigint[][] = [];
  for (let i = 0; i < plan.revealers.length; i++) {
    const seats = [...(await d.run.scorersOf(i))];
    scorers.push(seats);
    expected.push(expectedUpdate(played.committee, seats, revealed, i, Number(P.acceptScorePpm)));
  }
  await timeTo(d, played.info.voteRevealDeadline);
  const receipt = await send(d.run.finalizeRound(played.round, 1024n));
  return { ...played, expected, scorers, receipt };
}

function sumValidatorRewards(d: RunDeployment, receipt: ContractTransactionReceipt): bigint {
  return events(d, receipt, "ValidatorSettled").reduce((acc, e) => acc + (e.args.reward as bigint), 0n);
}

describe("TrainingRun: settlement outcomes (accept, reject, slash, reward, liveness)", function () {
  it("accepts medians >= acceptScore, rejects below, slashes an invalid update, pays points = median x capped samples and the validator share by agreeing scores", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0, t1, t2, t3] = d.trainers;
    const [v0, v1, v2] = d.validators;
    const runAddress = await d.run.getAddress();
    const updates = new Map([
      [t0!.address, makeUpdate(t0!.address, 2n, 1_000n)],
      [t1!.address, makeUpdate(t1!.address, 2n, 1_000n)],
      [t2!.address, makeUpdate(t2!.address, 2n, 1_000n)],
      // claims more samples than H x batch allows: its points are capped at MAX_SAMPLES
      [t3!.address, makeUpdate(t3!.address, 2n, 5_000n)],
    ]);
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt, committee, expected } = await playScored(d, {
      revealers: [t0!, t1!, t2!, t3!],
      updates,
      committeeWhere: allSeated(d),
      votes: [
        { validator: v0!, scores: [800_000, 50_000, 0, 300_000], modelHash: AGREED_HASH, evalLoss: 500_000_000n },
        { validator: v1!, scores: [600_000, 50_000, 0, 400_000], modelHash: AGREED_HASH, evalLoss: 600_000_000n },
        { validator: v2!, scores: [700_000, 90_000, 0, 200_000], modelHash: AGREED_HASH, evalLoss: 400_000_000n },
      ],
    });
    // whatever the seats, t0 and t3 are accepted, t1 rejected, t2 invalid
    expect(expected.map((e) => [e.accepted, e.invalid])).to.deep.equal([
      [true, false],
      [false, false],
      [false, true],
      [true, false],
    ]);
    const p0 = BigInt(expected[0]!.median) * 1_000n;
    const p3 = BigInt(expected[3]!.median) * MAX_SAMPLES;
    const scored = events(d, receipt, "UpdateScored").map((e) => [
      e.args.node,
      e.args.index,
      e.args.medianScore,
      e.args.scorers,
      e.args.accepted,
      e.args.rewardPoints,
    ]);
    expect(scored).to.deep.equal([
      [t0!.address, 0n, BigInt(expected[0]!.median), BigInt(C), true, p0],
      [t1!.address, 1n, BigInt(expected[1]!.median), BigInt(C), false, 0n],
      [t2!.address, 2n, 0n, BigInt(C), false, 0n],
      [t3!.address, 3n, BigInt(expected[3]!.median), BigInt(C), true, p3],
    ]);
    await expect(receipt.hash).to.emit(d.run, "TrainerPoolSet").withArgs(d.runId, 2n, TRAINER_POOL, p0 + p3);
    const seats = [v0!, v1!, v2!].map((v) => seatsOf(committee, v.address));
    // the validator pool goes by the seats' scores that matched each update's median (vote copying, issue 11)
    const agreements = agreementsOf(expected);
    const agreed = [v0!, v1!, v2!].map((v) => agreements.get(v.address.toLowerCase()) ?? 0);
    const totalAgreed = agreed.reduce((a, b) => a + b, 0);
    const settled = events(d, receipt, "ValidatorSettled").map((e) => [e.args.validator, e.args.agreed, e.args.reward]);
    expect(settled).to.have.deep.members([
      [v0!.address, true, share(agreed[0]!, totalAgreed)],
      [v1!.address, true, share(agreed[1]!, totalAgreed)],
      [v2!.address, true, share(agreed[2]!, totalAgreed)],
    ]);
    const validatorPaid = agreed.reduce((acc, a) => acc + share(a, totalAgreed), 0n);
    const minted = TRAINER_POOL + validatorPaid;
    // the lower median of the 16 seats' losses: each validator's loss counts once per seat
    const losses = [v0!, v1!, v2!].flatMap((v, i) => Array(seats[i]!).fill([500, 600, 400][i]!));
    await expect(receipt.hash)
      .to.emit(d.run, "ModelAgreed")
      .withArgs(d.runId, 2n, AGREED_HASH, BigInt(lowerMedian(losses)) * 1_000_000n, 2n, minted);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore + minted);
    expect(await d.core.token.balanceOf(runAddress)).to.equal(minted);
    // trainer rewards are credited lazily: memberOf already counts them
    expect((await d.run.memberOf(t0!.address)).rewards).to.equal((TRAINER_POOL * p0) / (p0 + p3));
    expect((await d.run.memberOf(t3!.address)).rewards).to.equal((TRAINER_POOL * p3) / (p0 + p3));
    expect((await d.run.memberOf(t1!.address)).rewards).to.equal(0n);
    expect((await d.run.memberOf(v2!.address)).rewards).to.equal(share(agreed[2]!, totalAgreed));

    // the invalid update: every scorer seat gave 0
    const slashAmount = (BigInt(P.minTrainerStake) * BigInt(P.invalidSlashBps)) / 10_000n;
    const slashes = events(d, receipt, "NodeSlashed");
    expect(slashes.map((e) => [e.args.node, e.args.reason, e.args.amount])).to.deep.equal([
      [t2!.address, SlashReason.InvalidUpdate, slashAmount],
    ]);
    const record = await d.core.stakeManager.slashRecord(slashes[0]!.args.slashId);
    expect([record.account, record.reason, record.runId, record.round, record.evidenceHash]).to.deep.equal([
      t2!.address,
      SlashReason.InvalidUpdate,
      d.runId,
      2n,
      updates.get(t2!.address)!.contentHash,
    ]);
    // the run's record of the lock shrinks with the slash
    expect((await d.run.memberOf(t2!.address)).lock).to.equal(BigInt(P.minTrainerStake) - slashAmount);

    const info = await d.run.currentRound();
    expect([info.round, info.modelHash]).to.deep.equal([3n, AGREED_HASH]);
  });

  it("a colluding minority cannot slash an honest update: median 0 from at least 2/3 of its scorer seats, but not all, rejects it without a slash (attack: under the old 2/3 rule it was slashed)", async function () {
    const d = await networkHelpers.loadFixture(fourValidatorsFixture);
    const [t0, t1] = d.trainers;
    const [v0, v1, v2, v3] = d.validators;
    // the colluders score t0 0 and hold at least 2/3 of the seats (enough under the old rule) but not all
    const { receipt, expected } = await playScored(d, {
      revealers: [t0!, t1!],
      committeeWhere: (c) => {
        const zeros = seatsOf(c, v0!.address) + seatsOf(c, v1!.address) + seatsOf(c, v2!.address);
        return 3 * zeros >= 2 * C && zeros < C;
      },
      votes: [
        { validator: v0!, scores: [0, 500_000], modelHash: AGREED_HASH },
        { validator: v1!, scores: [0, 500_000], modelHash: AGREED_HASH },
        { validator: v2!, scores: [0, 500_000], modelHash: AGREED_HASH },
        { validator: v3!, scores: [500_000, 500_000], modelHash: AGREED_HASH },
      ],
    });
    expect(expected.map((e) => [e.median, e.accepted, e.invalid])).to.deep.equal([
      [0, false, false],
      [500_000, true, false],
    ]);
    const scored = events(d, receipt, "UpdateScored").map((e) => [e.args.medianScore, e.args.accepted]);
    expect(scored).to.deep.equal([
      [0n, false],
      [500_000n, true],
    ]);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
  });

  it("vote copying: a validator that attests the agreed model but guesses its scores is paid nothing; the pool goes to the seats whose scores matched the medians (attack: paid by seats, it earned its full share)", async function () {
    const d = await networkHelpers.loadFixture(fourValidatorsFixture);
    const [t0, t1] = d.trainers;
    const [v0, v1, v2, v3] = d.validators;
    const { receipt, expected } = await playScored(d, {
      revealers: [t0!, t1!],
      committeeWhere: allSeated(d),
      votes: [
        { validator: v0!, scores: [512_345, 401_234], modelHash: AGREED_HASH },
        { validator: v1!, scores: [512_345, 401_234], modelHash: AGREED_HASH },
        { validator: v2!, scores: [512_345, 401_234], modelHash: AGREED_HASH },
        // did not score: guessed "accept everything" (any guess off the median by more than 1,000 ppm)
        { validator: v3!, scores: [1_000_000, 1_000_000], modelHash: AGREED_HASH },
      ],
    });
    const agreements = agreementsOf(expected);
    expect(agreements.get(v3!.address.toLowerCase()) ?? 0).to.equal(0);
    const settled = new Map(events(d, receipt, "ValidatorSettled").map((e) => [e.args.validator as string, e.args.reward as bigint]));
    expect(settled.get(v3!.address)).to.equal(0n);
    const total = [v0!, v1!, v2!].reduce((a, v) => a + (agreements.get(v.address.toLowerCase()) ?? 0), 0);
    for (const v of [v0!, v1!, v2!]) {
      expect(settled.get(v.address)).to.equal(share(agreements.get(v.address.toLowerCase()) ?? 0, total));
    }
    // the copier still backed the agreed hash: not slashed, just unpaid
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
  });

  it("vote copying with most of an update's seats: a guesser holding 2 of its 3 scorer seats sets the median but is not paid for it (another holder must confirm its score); the one-holder case pays", () => {
    // seats of holders g (the guesser) and h: the guess is the lower median of (g, g, h)
    expect(agreeingHolders(["g", "g", "h"], [400_000, 400_000, 600_000], 400_000)).to.deep.equal([]);
    expect(agreeingHolders(["g", "h", "i"], [400_000, 600_000, 600_000], 600_000)).to.deep.equal(["h", "i"]);
    expect(agreeingHolders(["h", "h", "h"], [600_000, 600_000, 600_000], 600_000)).to.deep.equal(["h", "h", "h"]);
    expect(agreeingHolders(["g", "h", "h"], [600_500, 600_000, 600_000], 600_000)).to.deep.equal(["g", "h", "h"]);
  });

  it("a trainer that committed and did not reveal is slashed NoReveal with its commitment as evidence", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0, t1] = d.trainers;
    const { receipt, updates } = await playScored(d, {
      revealers: [t0!],
      silent: [t1!],
      votes: d.validators.map((v) => ({ validator: v, scores: [500_000], modelHash: AGREED_HASH })),
    });
    const expected = (BigInt(P.minTrainerStake) * BigInt(P.noRevealSlashBps)) / 10_000n;
    const [slashed] = events(d, receipt, "NodeSlashed");
    expect([slashed!.args.node, slashed!.args.reason, slashed!.args.amount]).to.deep.equal([
      t1!.address,
      SlashReason.NoReveal,
      expected,
    ]);
    const record = await d.core.stakeManager.slashRecord(slashed!.args.slashId);
    expect(record.evidenceHash).to.equal(
      commitmentOf({ runId: d.runId, round: 2n, node: t1!.address as Address, ...updates.get(t1!.address)! }),
    );
    expect(await d.core.stakeManager.bondedOf(t1!.address)).to.equal(1_000n * ONE - expected);
    await expect(receipt.hash).to.emit(d.run, "ModelAgreed");
  });

  it("a round without validator votes closes with RoundFailed(NoValidatorVotes): model unchanged, nothing minted, nothing decided", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt } = await playScored(d, { revealers: [d.trainers[0]!, d.trainers[1]!], votes: [] });
    await expect(receipt.hash).to.emit(d.run, "RoundFailed").withArgs(d.runId, 2n, RoundFailure.NoValidatorVotes);
    await expect(receipt.hash).not.to.emit(d.run, "ModelAgreed");
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore);
    // no scorer revealed: not decided, so neither accepted nor slashed
    expect(events(d, receipt, "UpdateScored").map((e) => [e.args.scorers, e.args.accepted])).to.deep.equal([
      [0n, false],
      [0n, false],
    ]);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
    expect((await d.run.currentRound()).modelHash).to.equal(INITIAL_MODEL_HASH);
  });

  it("without a 2/3 model-hash majority the round fails (NoModelMajority): no model change, no trainer emission, nobody slashed; only the strictly largest group is paid (P9)", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [v0, v1, v2] = d.validators;
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt, committee } = await playScored(d, {
      revealers: [d.trainers[0]!],
      // three hashes, no group with 2/3 of the seats, one strictly largest
      committeeWhere: (c) => {
        const s = [v0!, v1!, v2!].map((v) => seatsOf(c, v.address));
        return s.every((x) => x > 0 && 3 * x < 2 * C) && s[0]! > s[1]! && s[0]! > s[2]!;
      },
      votes: [
        { validator: v0!, scores: [900_000], modelHash: AGREED_HASH },
        { validator: v1!, scores: [900_000], modelHash: OTHER_HASH },
        { validator: v2!, scores: [900_000], modelHash: INITIAL_MODEL_HASH },
      ],
    });
    await expect(receipt.hash).to.emit(d.run, "RoundFailed").withArgs(d.runId, 2n, RoundFailure.NoModelMajority);
    await expect(receipt.hash).not.to.emit(d.run, "ModelAgreed");
    await expect(receipt.hash).to.emit(d.run, "TrainerPoolSet").withArgs(d.runId, 2n, 0n, (x: bigint) => x > 0n);
    const largest = seatsOf(committee, v0!.address);
    expect(events(d, receipt, "ValidatorSettled").map((e) => [e.args.validator, e.args.agreed, e.args.reward])).to.have.deep.members([
      [v0!.address, true, share(largest, largest)],
      [v1!.address, false, 0n],
      [v2!.address, false, 0n],
    ]);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore + VALIDATOR_POOL);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
    expect((await d.run.currentRound()).modelHash).to.equal(INITIAL_MODEL_HASH);
    expect((await d.run.memberOf(d.trainers[0]!.address)).rewards).to.equal(0n);
  });

  it("with a 2/3 majority of the seats the agreed hash becomes M_{r+1}, its loss is the seat-weighted lower median, and the disagreeing validator is slashed and unpaid", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [v0, v1, v2] = d.validators;
    const { receipt, committee } = await playScored(d, {
      revealers: [d.trainers[0]!],
      committeeWhere: (c) => allSeated(d)(c) && 3 * seatsOf(c, v1!.address) <= C,
      votes: [
        { validator: v0!, scores: [900_000], modelHash: AGREED_HASH, evalLoss: 7n },
        { validator: v1!, scores: [900_000], modelHash: OTHER_HASH, evalLoss: 1n },
        { validator: v2!, scores: [900_000], modelHash: AGREED_HASH, evalLoss: 9n },
      ],
    });
    const s0 = seatsOf(committee, v0!.address);
    const s2 = seatsOf(committee, v2!.address);
    const loss = 2 * s0 >= s0 + s2 ? 7n : 9n;
    const paid = share(s0, s0 + s2) + share(s2, s0 + s2);
    await expect(receipt.hash)
      .to.emit(d.run, "ModelAgreed")
      .withArgs(d.runId, 2n, AGREED_HASH, loss, 1n, TRAINER_POOL + paid);
    expect(events(d, receipt, "ValidatorSettled").map((e) => [e.args.validator, e.args.agreed, e.args.reward])).to.have.deep.members([
      [v0!.address, true, share(s0, s0 + s2)],
      [v1!.address, false, 0n],
      [v2!.address, true, share(s2, s0 + s2)],
    ]);
    const expected = (BigInt(P.minValidatorStake) * BigInt(P.validatorSlashBps)) / 10_000n;
    const slashes = events(d, receipt, "NodeSlashed");
    expect(slashes.map((e) => [e.args.node, e.args.reason, e.args.amount])).to.deep.equal([
      [v1!.address, SlashReason.ValidatorDisagreement, expected],
    ]);
    expect((await d.core.stakeManager.slashRecord(slashes[0]!.args.slashId)).evidenceHash).to.equal(OTHER_HASH);
    expect((await d.run.currentRound()).modelHash).to.equal(AGREED_HASH);
  });

  it("fewer accepted updates than minUpdates: RoundFailed(TooFewAcceptedUpdates), no model change, no trainer emission", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt } = await playScored(d, {
      revealers: [d.trainers[0]!, d.trainers[1]!],
      votes: d.validators.map((v) => ({ validator: v, scores: [99_999, 10], modelHash: AGREED_HASH })),
    });
    await expect(receipt.hash).to.emit(d.run, "RoundFailed").withArgs(d.runId, 2n, RoundFailure.TooFewAcceptedUpdates);
    await expect(receipt.hash).to.emit(d.run, "TrainerPoolSet").withArgs(d.runId, 2n, 0n, 0n);
    // the validators that agreed on the model are still paid for their work
    const validatorPaid = sumValidatorRewards(d, receipt);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore + validatorPaid);
    expect((await d.run.currentRound()).modelHash).to.equal(INITIAL_MODEL_HASH);
  });

  it("a validator's vote weight is the seats it holds: a 3x lock that holds at least half the seats decides the median", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [heavy] = await fundedWallets(d.core, "heavy-validator", 1, 10_000n * ONE);
    await send(d.run.connect(heavy!).join(Role.Validator, 3n * BigInt(P.minValidatorStake)));
    const { receipt, committee } = await playScored(d, {
      revealers: [d.trainers[0]!],
      committeeWhere: (c) => {
        const h = seatsOf(c, heavy!.address);
        return 2 * h >= C && 3 * h < 2 * C;
      },
      votes: [
        ...d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
        { validator: heavy!, scores: [0], modelHash: AGREED_HASH },
      ],
    });
    // in expectation the heavy lock (3 of 6 minimum locks) holds half the seats; here it does
    expect(2 * seatsOf(committee, heavy!.address)).to.be.greaterThanOrEqual(C);
    expect(events(d, receipt, "ValidatorSettled").find((e) => e.args.validator === heavy!.address)).to.not.equal(undefined);
    // the 0 holds at least half the seats, so it is the lower median; under 2/3, so no slash
    const [scored] = events(d, receipt, "UpdateScored");
    expect([scored!.args.medianScore, scored!.args.accepted]).to.deep.equal([0n, false]);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
  });

  it("when the reward mint reverts (MINTER_ROLE revoked) the model still advances, EmissionFailed is emitted and nothing accrues", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    await send(d.core.token.connect(d.governance).revokeRole(await d.core.token.MINTER_ROLE(), await d.run.getAddress()));
    const { receipt, committee } = await playScored(d, {
      revealers: [d.trainers[0]!],
      votes: d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
    });
    const validatorShares = [...seatCounts(committee).values()].reduce((acc, s) => acc + share(s, C), 0n);
    await expect(receipt.hash).to.emit(d.run, "EmissionFailed").withArgs(d.runId, 2n, TRAINER_POOL + validatorShares);
    await expect(receipt.hash).to.emit(d.run, "ModelAgreed").withArgs(d.runId, 2n, AGREED_HASH, 500_000_000n, 1n, 0n);
    expect(sumValidatorRewards(d, receipt)).to.equal(0n);
    await expect(receipt.hash).to.emit(d.run, "TrainerPoolSet").withArgs(d.runId, 2n, 0n, (x: bigint) => x > 0n);
    expect((await d.run.memberOf(d.trainers[0]!.address)).rewards).to.equal(0n);
  });

  it("claim pays the accrued rewards once (crediting the trainer's points on the way); a second claim pays nothing", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0] = d.trainers;
    await playScored(d, {
      revealers: [t0!],
      votes: d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
    });
    const accrued = (await d.run.memberOf(t0!.address)).rewards;
    expect(accrued).to.equal(TRAINER_POOL);
    const before = await d.core.token.balanceOf(t0!.address);
    expect(await d.run.connect(t0!).claim.staticCall()).to.equal(accrued);
    await expect(d.run.connect(t0!).claim())
      .to.emit(d.run, "TrainerRewarded")
      .withArgs(d.runId, 2n, t0!.address, accrued)
      .and.to.emit(d.run, "RewardsClaimed")
      .withArgs(d.runId, t0!.address, accrued);
    expect(await d.core.token.balanceOf(t0!.address)).to.equal(before + accrued);
    expect(await d.run.connect(t0!).claim.staticCall()).to.equal(0n);
    await expect(d.run.connect(t0!).claim()).not.to.emit(d.run, "RewardsClaimed");
    expect(await d.core.token.balanceOf(t0!.address)).to.equal(before + accrued);
  });

  it("rewards accrued before leaving stay claimable", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0] = d.trainers;
    await playScored(d, {
      revealers: [t0!],
      votes: d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
    });
    await send(d.run.connect(t0!).leave());
    expect(await d.run.connect(t0!).claim.staticCall()).to.equal(TRAINER_POOL);
  });

  it("over random rounds what a round pays never exceeds its emission, and the run holds what it minted less the rounding dust", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const rng = createRng("TrainingRunSettlement: random rounds");
    const runAddress = await d.run.getAddress();
    let outcomes = 0;
    const ROUNDS = 8;
    let owed = 0n;
    for (let r = 0; r < ROUNDS; r++) {
      // slashed trainers hold stale locks (below the minimum) and take no seat (P5)
      const seated = [];
      for (const t of d.trainers) if ((await d.run.seatDraw(t.address))[0]) seated.push(t);
      if (seated.length === 0) break;
      const count = 1 + rng.nextInt(seated.length);
      const revealers = rng.shuffle(seated).slice(0, count);
      const round = (await d.run.currentRound()).round;
      const updates = new Map(
        revealers.map((t) => [t.address, makeUpdate(t.address, round, BigInt(1 + rng.nextInt(3_000)))] as const),
      );
      // the committee is drawn from each round's block hash, so the outcome mix is forced: the
      // first round surely agrees, the second has no votes at all, the rest are random
      const votes =
        r === 1
          ? []
          : d.validators.map((v) => ({
              validator: v,
              scores: revealers.map(() => (r === 0 ? 900_000 : rng.nextFloat() < 0.2 ? 0 : rng.nextInt(1_000_001))),
              modelHash:
                r === 0 ? AGREED_HASH : [AGREED_HASH, AGREED_HASH, AGREED_HASH, OTHER_HASH, INITIAL_MODEL_HASH][rng.nextInt(5)]!,
            }));
      const balanceBefore = await d.core.token.balanceOf(runAddress);
      const { receipt } = await playScored(d, { revealers, updates, votes });
      const minted = (await d.core.token.balanceOf(runAddress)) - balanceBefore;
      const [pool] = events(d, receipt, "TrainerPoolSet");
      const totalPoints = pool!.args.totalPoints as bigint;
      const trainerPool = pool!.args.pool as bigint;
      const trainersPaid = events(d, receipt, "UpdateScored").reduce(
        (acc, e) => acc + (totalPoints > 0n ? ((e.args.rewardPoints as bigint) * trainerPool) / totalPoints : 0n),
        0n,
      );
      const paid = trainersPaid + sumValidatorRewards(d, receipt);
      owed += paid;
      expect(minted).to.be.lessThanOrEqual(EMISSION);
      expect(paid).to.be.lessThanOrEqual(minted);
      // rounding dust is at most one base unit per payee
      expect(minted - paid).to.be.lessThan(BigInt(revealers.length + d.validators.length));
      const agreed = events(d, receipt, "ModelAgreed");
      if (agreed.length > 0) {
        expect(agreed[0]!.args.emission).to.equal(minted);
        outcomes++;
      } else {
        expect(trainerPool).to.equal(0n);
      }
    }
    // both successful and failed rounds were settled
    expect(outcomes).to.be.greaterThan(0);
    expect(outcomes).to.be.lessThan(ROUNDS);
    // everyone's accrued rewards (credited or not) are what the rounds paid
    let accrued = 0n;
    for (const w of [...d.trainers, ...d.validators]) accrued += (await d.run.memberOf(w.address)).rewards;
    expect(accrued).to.equal(owed);
    expect(await d.core.token.balanceOf(runAddress)).to.be.greaterThanOrEqual(accrued);
  });

  it("committing again in the next round works after a failed round, and each round opens with fresh counts", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0] = d.trainers;
    await playScored(d, { revealers: [t0!], votes: [] });
    const info = await d.run.currentRound();
    expect([info.round, info.commits, info.reveals, info.votes, info.voteReveals]).to.deep.equal([3n, 0n, 0n, 0n, 0n]);
    const u = makeUpdate(t0!.address, 3n);
    await send(d.run.connect(t0!).commit(3n, commitmentOf({ runId: d.runId, round: 3n, node: t0!.address as Address, ...u })));
    await timeTo(d, info.commitDeadline);
    await expect(d.run.connect(t0!).reveal(3n, u.cid, u.contentHash, u.samples, u.salt)).to.emit(d.run, "Revealed");
    expect(info.seed).to.not.equal(ethers.ZeroHash);
  });
});

/**
 * k < C at contract level: C = 4 committee seats, k = 3 scorers per update, two validators of
 * equal lock, the guesser g (validators[0]) and the honest h (validators[1]), and one trainer.
 * The test stands in for the block producer (committeeWhere) until the trainer's update is scored
 * by exactly two of g's seats and one of h's (about 3 in 8 challenge blocks), and checks that
 * layout on the contract (scorersOf, committee) before reading the outcome.
 *
 * The attack: with 2 of the 3 seats, whatever g reveals twice is the lower median, so under the
 * old per-seat rule (paid when within SCORE_AGREEMENT_PPM of the median) a guess always "agreed"
 * and g, having computed nothing, took 2 of the update's agreeing scores, and here the whole
 * validator pool. The defence (RoundSettlement._countAgreements) also asks that another holder's
 * seat gave a score within SCORE_AGREEMENT_PPM of it; the one-holder exemption does not apply,
 * since h holds the third seat. perSeatRule below is the old rule, to show each case would pay g.
 * Against mutants of RoundSettlement.sol: `confirmed = true` (old rule) fails the first and third
 * cases (g is paid the 200-token pool); an exact-equality confirmation fails the second; the old
 * 2/3-zeros slash rule fails the third.
 */
const K3_PARAMS = { ...P, committeeSize: 4, scorersPerUpdate: 3 };
const guesserFixture = () => deployRun(connection, { trainers: 1, validators: 2, params: K3_PARAMS });

/** RoundLib.assignmentBase: keccak256(abi.encode(rand, node)) % C, the first of the update's k consecutive seats. */
function assignmentBaseOf(randomness: string, node: string, committeeSize: number): number {
  const h = keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [randomness, node]));
  return Number(BigInt(h) % BigInt(committeeSize));
}

/** The holders (lower case) of the k seats that score `node`'s update. */
function scorerHolders(committee: readonly string[], randomness: string, node: string): string[] {
  const c = Number(K3_PARAMS.committeeSize);
  const base = assignmentBaseOf(randomness, node, c);
  return Array.from({ length: Number(K3_PARAMS.scorersPerUpdate) }, (_, t) => committee[(base + t) % c]!.toLowerCase());
}

/** The rule before the defence: a seat is paid when its score is within SCORE_AGREEMENT_PPM of the median, confirmed or not. */
function perSeatRule(holders: readonly string[], values: readonly number[], median: number): string[] {
  return holders.filter((_, t) => Math.abs(values[t]! - median) <= SCORE_AGREEMENT_PPM);
}

/**
 * Plays round 2 with the trainer's update scored by (g, g, h) in some seat order: g reveals
 * `guess` on both of its seats, h reveals `honest`; both attest the same model. Returns the
 * settlement receipt, the scorer seats' holders and scores as the contract assigned them, the TS
 * reference of the update, and each validator's reward.
 */
async function playGuesserRound(d: RunDeployment, guess: number, honest: number) {
  const [t0] = d.trainers;
  const [g, h] = d.validators;
  const gk = g!.address.toLowerCase();
  const hk = h!.address.toLowerCase();
  const layout = (holders: string[]) =>
    holders.filter((x) => x === gk).length === 2 && holders.filter((x) => x === hk).length === 1;
  const played = await playScored(d, {
    revealers: [t0!],
    committeeWhere: (c, rand) => layout(scorerHolders(c, rand, t0!.address)),
    votes: [
      { validator: g!, scores: [guess], modelHash: AGREED_HASH },
      { validator: h!, scores: [honest], modelHash: AGREED_HASH },
    ],
  });
  // the layout as the contract has it, not as the TS draw predicted it
  const seats = played.scorers[0]!;
  const holders = seats.map((j) => played.committee[Number(j)]!.toLowerCase());
  expect(seats, "k = 3 scorer seats per update").to.have.length(3);
  expect(new Set(seats.map(Number)).size, "three distinct seats").to.equal(3);
  expect(layout(holders), `the update's scorer seats must be held (g, g, h) in some order; got ${holders.join(", ")}`).to.equal(true);
  const values = holders.map((x) => (x === gk ? guess : honest));
  const rewards = new Map(
    events(d, played.receipt, "ValidatorSettled").map((e) => [(e.args.validator as string).toLowerCase(), e.args.reward as bigint]),
  );
  return { ...played, gk, hk, holders, values, rewards };
}

describe("TrainingRun: a guesser holding 2 of an update's k = 3 scorer seats (C = 4), settled by the contract", function () {
  it("same guess on both seats becomes the median, but no other holder confirms it: the guesser is paid nothing, nor is the honest seat off the median (attack: the old per-seat rule paid the guesser the whole validator pool)", async function () {
    const d = await networkHelpers.loadFixture(guesserFixture);
    const supplyBefore = await d.core.token.totalSupply();
    // G = 400,000 on g's two seats, H = 600,000 on h's: lower median of (G, G, H) = G
    const G = 400_000;
    const H = 600_000;
    const { receipt, expected, holders, values, rewards, gk, hk } = await playGuesserRound(d, G, H);
    const [scored] = events(d, receipt, "UpdateScored");
    expect([scored!.args.medianScore, scored!.args.scorers, scored!.args.accepted]).to.deep.equal([BigInt(G), 3n, true]);
    // without the defence g's two seats both sit on the median: paid 2 of the 2 agreeing scores,
    // i.e. the whole validator pool, for a guess nobody else made
    expect(perSeatRule(holders, values, G)).to.deep.equal([gk, gk]);
    // with it: g is unconfirmed (h's score is 200,000 ppm away), h is 200,000 ppm off the median
    expect(agreeingHolders(holders, values, G)).to.deep.equal([]);
    expect(expected[0]!.agreeing).to.deep.equal([]);
    expect(rewards.get(gk)).to.equal(0n);
    expect(rewards.get(hk)).to.equal(0n);
    expect((await d.run.memberOf(gk)).rewards).to.equal(0n);
    expect((await d.run.memberOf(hk)).rewards).to.equal(0n);
    // no agreeing score at all: the validator pool is not minted; the trainer pool is
    await expect(receipt.hash).to.emit(d.run, "ModelAgreed").withArgs(d.runId, 2n, AGREED_HASH, 500_000_000n, 1n, TRAINER_POOL);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore + TRAINER_POOL);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
  });

  it("the guesser's two seats within 1,000 ppm of the honest holder's score: all three seats are paid (g 2/3, h 1/3 of the pool), as the TS reference says", async function () {
    const d = await networkHelpers.loadFixture(guesserFixture);
    const supplyBefore = await d.core.token.totalSupply();
    // 300 ppm apart (different backends): lower median of (600,000, 600,300, 600,300) = 600,300
    const G = 600_300;
    const H = 600_000;
    const { receipt, expected, holders, values, rewards, gk, hk } = await playGuesserRound(d, G, H);
    const [scored] = events(d, receipt, "UpdateScored");
    expect([scored!.args.medianScore, scored!.args.scorers, scored!.args.accepted]).to.deep.equal([BigInt(G), 3n, true]);
    expect(agreeingHolders(holders, values, G)).to.deep.equal(holders);
    expect(expected[0]!.agreeing).to.deep.equal(holders);
    expect(rewards.get(gk)).to.equal(share(2, 3));
    expect(rewards.get(hk)).to.equal(share(1, 3));
    expect((await d.run.memberOf(gk)).rewards).to.equal(share(2, 3));
    expect((await d.run.memberOf(hk)).rewards).to.equal(share(1, 3));
    const minted = TRAINER_POOL + share(2, 3) + share(1, 3);
    await expect(receipt.hash).to.emit(d.run, "ModelAgreed").withArgs(d.runId, 2n, AGREED_HASH, 500_000_000n, 1n, minted);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore + minted);
  });

  it("the guesser's two seats score 0, the honest seat a positive score: median 0 rejects the update but does not slash the trainer, and nobody is paid (attack: 2 of 3 zeros met the old 2/3 slash rule, and the old per-seat rule paid the zeros)", async function () {
    const d = await networkHelpers.loadFixture(guesserFixture);
    const [t0] = d.trainers;
    const lockBefore = (await d.run.memberOf(t0!.address)).lock;
    const bondedBefore = await d.core.stakeManager.bondedOf(t0!.address);
    const { receipt, expected, holders, values, rewards, gk, hk } = await playGuesserRound(d, 0, 500_000);
    const [scored] = events(d, receipt, "UpdateScored");
    expect([scored!.args.medianScore, scored!.args.scorers, scored!.args.accepted, scored!.args.rewardPoints]).to.deep.equal([
      0n,
      3n,
      false,
      0n,
    ]);
    expect([expected[0]!.median, expected[0]!.accepted, expected[0]!.invalid]).to.deep.equal([0, false, false]);
    // slashed only when every revealed scorer seat gave 0; here 2 of 3 did
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
    expect((await d.run.memberOf(t0!.address)).lock).to.equal(lockBefore);
    expect(await d.core.stakeManager.bondedOf(t0!.address)).to.equal(bondedBefore);
    // the zeros sit on the median but are unconfirmed; h is off the median
    expect(perSeatRule(holders, values, 0)).to.deep.equal([gk, gk]);
    expect(expected[0]!.agreeing).to.deep.equal([]);
    expect(rewards.get(gk)).to.equal(0n);
    expect(rewards.get(hk)).to.equal(0n);
    await expect(receipt.hash).to.emit(d.run, "RoundFailed").withArgs(d.runId, 2n, RoundFailure.TooFewAcceptedUpdates);
  });
});
