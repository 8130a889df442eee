import { expect } from "chai";
import type { ContractTransactionReceipt, LogDescription } from "ethers";
import { network } from "hardhat";
import type { Address } from "viem";
import { commitmentOf } from "../../node/src/chain/commitment.js";
import { createRng } from "../../node/src/random/rng.js";
import { ONE } from "./helpers/deployCore.js";
import {
  AGREED_HASH,
  deployRun,
  fundedWallets,
  INITIAL_MODEL_HASH,
  makeUpdate,
  OTHER_HASH,
  playRound,
  Role,
  RoundFailure,
  type RunDeployment,
  send,
  SlashReason,
  TEST_RUN_PARAMS,
  timeTo,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const P = TEST_RUN_PARAMS;
const EMISSION = BigInt(P.emissionPerRound);
const VALIDATOR_POOL = (EMISSION * BigInt(P.validatorShareBps)) / 10_000n;
const TRAINER_POOL = EMISSION - VALIDATOR_POOL;
const MAX_SAMPLES = BigInt(P.innerSteps) * BigInt(P.batchSize);

const runFixture = () => deployRun(connection, { trainers: 6, validators: 3 });
const fourValidatorsFixture = () => deployRun(connection, { trainers: 2, validators: 4 });

/** The run's events in a receipt, by name. */
function events(
  d: RunDeployment,
  receipt: ContractTransactionReceipt | undefined,
  name: string,
): LogDescription[] {
  if (!receipt) throw new Error("no receipt: the round was not finalized");
  const out: LogDescription[] = [];
  for (const log of receipt.logs) {
    const parsed = d.run.interface.parseLog(log);
    if (parsed?.name === name) out.push(parsed);
  }
  return out;
}

function sumRewards(d: RunDeployment, receipt: ContractTransactionReceipt | undefined): bigint {
  return [...events(d, receipt, "UpdateScored"), ...events(d, receipt, "ValidatorSettled")].reduce(
    (acc, e) => acc + (e.args.reward as bigint),
    0n,
  );
}

describe("TrainingRun: finalize outcomes (accept, reject, slash, reward, liveness)", function () {
  it("accepts medians >= acceptScore, rejects below, slashes an invalid update and pays score x samples and the validator share by stake", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0, t1, t2, t3] = d.trainers;
    const [v0, v1, v2] = d.validators;
    const runAddress = await d.run.getAddress();
    const updates = new Map([
      [t0!.address, makeUpdate(t0!.address, 1n, 1_000n)],
      [t1!.address, makeUpdate(t1!.address, 1n, 1_000n)],
      [t2!.address, makeUpdate(t2!.address, 1n, 1_000n)],
      // claims more samples than H x batch allows: its weight is capped at MAX_SAMPLES
      [t3!.address, makeUpdate(t3!.address, 1n, 5_000n)],
    ]);
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt } = await playRound(d, {
      revealers: [t0!, t1!, t2!, t3!],
      updates,
      votes: [
        {
          validator: v0!,
          scores: [800_000, 50_000, 0, 300_000],
          modelHash: AGREED_HASH,
          evalLoss: 500_000_000n,
        },
        {
          validator: v1!,
          scores: [600_000, 50_000, 0, 400_000],
          modelHash: AGREED_HASH,
          evalLoss: 600_000_000n,
        },
        {
          validator: v2!,
          scores: [700_000, 900_000, 300_000, 200_000],
          modelHash: AGREED_HASH,
          evalLoss: 400_000_000n,
        },
      ],
    });

    const w0 = 700_000n * 1_000n;
    const w3 = 300_000n * MAX_SAMPLES;
    const r0 = (TRAINER_POOL * w0) / (w0 + w3);
    const r3 = (TRAINER_POOL * w3) / (w0 + w3);
    const rv = VALIDATOR_POOL / 3n;
    const scored = events(d, receipt, "UpdateScored").map((e) => [
      e.args.node,
      e.args.medianScore,
      e.args.accepted,
      e.args.reward,
    ]);
    expect(scored).to.deep.equal([
      [t0!.address, 700_000n, true, r0],
      [t1!.address, 50_000n, false, 0n],
      [t2!.address, 0n, false, 0n],
      [t3!.address, 300_000n, true, r3],
    ]);
    const settled = events(d, receipt, "ValidatorSettled").map((e) => [
      e.args.validator,
      e.args.agreed,
      e.args.reward,
    ]);
    expect(settled).to.deep.equal([
      [v0!.address, true, rv],
      [v1!.address, true, rv],
      [v2!.address, true, rv],
    ]);

    const minted = r0 + r3 + 3n * rv;
    expect(minted).to.be.lessThanOrEqual(EMISSION);
    await expect(receipt!.hash)
      .to.emit(d.run, "ModelAgreed")
      .withArgs(d.runId, 1n, AGREED_HASH, 500_000_000n, 2n, minted);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore + minted);
    expect(await d.core.token.balanceOf(runAddress)).to.equal(minted);
    expect((await d.run.memberOf(t0!.address)).rewards).to.equal(r0);
    expect((await d.run.memberOf(t1!.address)).rewards).to.equal(0n);
    expect((await d.run.memberOf(v2!.address)).rewards).to.equal(rv);

    // the invalid update: median 0 with 2/3 of the voting stake scoring 0
    const slashAmount = (BigInt(P.minTrainerStake) * BigInt(P.invalidSlashBps)) / 10_000n;
    const [slashed] = events(d, receipt, "NodeSlashed");
    expect([slashed!.args.node, slashed!.args.reason, slashed!.args.amount]).to.deep.equal([
      t2!.address,
      SlashReason.InvalidUpdate,
      slashAmount,
    ]);
    const record = await d.core.stakeManager.slashRecord(slashed!.args.slashId);
    expect([
      record.account,
      record.reason,
      record.runId,
      record.round,
      record.evidenceHash,
    ]).to.deep.equal([
      t2!.address,
      SlashReason.InvalidUpdate,
      d.runId,
      1n,
      updates.get(t2!.address)!.contentHash,
    ]);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(1);

    // round 2 trains from the agreed model
    const info = await d.run.currentRound();
    expect([info.round, info.modelHash]).to.deep.equal([2n, AGREED_HASH]);
    expect(await d.run.model()).to.deep.equal([AGREED_HASH, 500_000_000n]);
  });

  it("an update with median 0 but less than 2/3 of the stake scoring 0 is rejected and not slashed", async function () {
    const d = await networkHelpers.loadFixture(fourValidatorsFixture);
    const [t0, t1] = d.trainers;
    const [v0, v1, v2, v3] = d.validators;
    const { receipt } = await playRound(d, {
      revealers: [t0!, t1!],
      votes: [
        { validator: v0!, scores: [0, 500_000], modelHash: AGREED_HASH },
        { validator: v1!, scores: [0, 500_000], modelHash: AGREED_HASH },
        { validator: v2!, scores: [500_000, 500_000], modelHash: AGREED_HASH },
        { validator: v3!, scores: [500_000, 500_000], modelHash: AGREED_HASH },
      ],
    });
    const scored = events(d, receipt, "UpdateScored").map((e) => [
      e.args.medianScore,
      e.args.accepted,
    ]);
    // equal weights, values (0, 0, 0.5, 0.5): the lower weighted median is 0
    expect(scored).to.deep.equal([
      [0n, false],
      [500_000n, true],
    ]);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
  });

  it("a trainer that committed and did not reveal is slashed NoReveal with its commitment as evidence", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0, t1] = d.trainers;
    const { receipt, updates } = await playRound(d, {
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
      commitmentOf({ runId: d.runId, round: 1n, node: t1!.address as Address, ...updates.get(t1!.address)! }),
    );
    expect(await d.core.stakeManager.bondedOf(t1!.address)).to.equal(1_000n * ONE - expected);
    await expect(receipt!.hash).to.emit(d.run, "ModelAgreed");
  });

  it("a round without validator votes closes with RoundFailed(NoValidatorVotes): model unchanged, nothing minted", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt } = await playRound(d, {
      revealers: [d.trainers[0]!, d.trainers[1]!],
      votes: [],
    });
    await expect(receipt!.hash)
      .to.emit(d.run, "RoundFailed")
      .withArgs(d.runId, 1n, RoundFailure.NoValidatorVotes);
    await expect(receipt!.hash).not.to.emit(d.run, "ModelAgreed");
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore);
    expect(events(d, receipt, "UpdateScored").map((e) => e.args.reward)).to.deep.equal([0n, 0n]);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
    expect((await d.run.currentRound()).modelHash).to.equal(INITIAL_MODEL_HASH);
  });

  it("without a 2/3 model-hash majority the round fails (NoModelMajority): no model change, no emission, no validator slashed", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [v0, v1, v2] = d.validators;
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt } = await playRound(d, {
      revealers: [d.trainers[0]!],
      votes: [
        { validator: v0!, scores: [900_000], modelHash: AGREED_HASH },
        { validator: v1!, scores: [900_000], modelHash: OTHER_HASH },
        { validator: v2!, scores: [900_000], modelHash: INITIAL_MODEL_HASH },
      ],
    });
    await expect(receipt!.hash)
      .to.emit(d.run, "RoundFailed")
      .withArgs(d.runId, 1n, RoundFailure.NoModelMajority);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore);
    expect(sumRewards(d, receipt)).to.equal(0n);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
    expect(events(d, receipt, "ValidatorSettled").map((e) => e.args.agreed)).to.deep.equal([
      false,
      false,
      false,
    ]);
    expect((await d.run.currentRound()).modelHash).to.equal(INITIAL_MODEL_HASH);
  });

  it("with a 2/3 majority the agreed hash becomes M_{r+1} and the disagreeing validator is slashed and unpaid", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [v0, v1, v2] = d.validators;
    const { receipt } = await playRound(d, {
      revealers: [d.trainers[0]!],
      votes: [
        { validator: v0!, scores: [900_000], modelHash: AGREED_HASH, evalLoss: 7n },
        { validator: v1!, scores: [900_000], modelHash: OTHER_HASH, evalLoss: 1n },
        { validator: v2!, scores: [900_000], modelHash: AGREED_HASH, evalLoss: 9n },
      ],
    });
    // backers of AGREED_HASH hold exactly 2/3 of the voting stake: enough
    await expect(receipt!.hash)
      .to.emit(d.run, "ModelAgreed")
      .withArgs(d.runId, 1n, AGREED_HASH, 7n, 1n, EMISSION);
    const settled = events(d, receipt, "ValidatorSettled").map((e) => [
      e.args.validator,
      e.args.agreed,
      e.args.reward,
    ]);
    expect(settled).to.deep.equal([
      [v0!.address, true, VALIDATOR_POOL / 2n],
      [v1!.address, false, 0n],
      [v2!.address, true, VALIDATOR_POOL / 2n],
    ]);
    const expected = (BigInt(P.minValidatorStake) * BigInt(P.validatorSlashBps)) / 10_000n;
    const slashes = events(d, receipt, "NodeSlashed").map((e) => [
      e.args.node,
      e.args.reason,
      e.args.amount,
    ]);
    expect(slashes).to.deep.equal([[v1!.address, SlashReason.ValidatorDisagreement, expected]]);
    const record = await d.core.stakeManager.slashRecord(
      events(d, receipt, "NodeSlashed")[0]!.args.slashId,
    );
    expect(record.evidenceHash).to.equal(OTHER_HASH);
    expect((await d.run.currentRound()).modelHash).to.equal(AGREED_HASH);
  });

  it("fewer accepted updates than minUpdates: RoundFailed(TooFewAcceptedUpdates), no model change, no emission", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const supplyBefore = await d.core.token.totalSupply();
    const { receipt } = await playRound(d, {
      revealers: [d.trainers[0]!, d.trainers[1]!],
      votes: d.validators.map((v) => ({
        validator: v,
        scores: [99_999, 10],
        modelHash: AGREED_HASH,
      })),
    });
    await expect(receipt!.hash)
      .to.emit(d.run, "RoundFailed")
      .withArgs(d.runId, 1n, RoundFailure.TooFewAcceptedUpdates);
    expect(await d.core.token.totalSupply()).to.equal(supplyBefore);
    expect(sumRewards(d, receipt)).to.equal(0n);
    expect((await d.run.currentRound()).modelHash).to.equal(INITIAL_MODEL_HASH);
  });

  it("a validator's weight is its locked stake: one heavy validator outweighs two light ones in the median", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    // governance raises the validator minimum; a validator joining afterwards locks 3x more
    await send(
      d.run
        .connect(d.governance)
        .setParams({ ...P, minValidatorStake: 3n * BigInt(P.minValidatorStake) }),
    );
    await playRound(d, { revealers: [], votes: [] });
    const [heavy] = await fundedWallets(d.core, "heavy-validator", 1, 10_000n * ONE);
    await send(d.run.connect(heavy!).join(Role.Validator));
    const [v0, v1] = d.validators;
    const { round } = await playRound(d, {
      revealers: [d.trainers[0]!],
      votes: [
        { validator: v0!, scores: [900_000], modelHash: AGREED_HASH },
        { validator: v1!, scores: [900_000], modelHash: AGREED_HASH },
        { validator: heavy!, scores: [0], modelHash: AGREED_HASH },
      ],
      finalize: false,
    });
    expect((await d.run.vote(0n)).weight).to.equal(BigInt(P.minValidatorStake));
    expect((await d.run.vote(2n)).weight).to.equal(3n * BigInt(P.minValidatorStake));
    const receipt = await send(d.run.finalizeRound(round));
    // weights 1, 1, 3 on (0.9, 0.9, 0): the 0 holds 3/5 >= 1/2, so the median is 0;
    // 3/5 < 2/3, so the update is rejected but not slashed
    const [scored] = events(d, receipt, "UpdateScored");
    expect([scored!.args.medianScore, scored!.args.accepted]).to.deep.equal([0n, false]);
    expect(events(d, receipt, "NodeSlashed")).to.have.length(0);
  });

  it("when the reward mint reverts (MINTER_ROLE revoked) the model still advances, EmissionFailed is emitted and nothing accrues", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    await send(
      d.core.token
        .connect(d.governance)
        .revokeRole(await d.core.token.MINTER_ROLE(), await d.run.getAddress()),
    );
    const { receipt } = await playRound(d, {
      revealers: [d.trainers[0]!],
      votes: d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
    });
    await expect(receipt!.hash)
      .to.emit(d.run, "EmissionFailed")
      .withArgs(d.runId, 1n, TRAINER_POOL + 3n * (VALIDATOR_POOL / 3n));
    await expect(receipt!.hash)
      .to.emit(d.run, "ModelAgreed")
      .withArgs(d.runId, 1n, AGREED_HASH, 500_000_000n, 1n, 0n);
    expect(sumRewards(d, receipt)).to.equal(0n);
    expect((await d.run.memberOf(d.trainers[0]!.address)).rewards).to.equal(0n);
  });

  it("claim pays the accrued rewards once; a second claim pays nothing", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0] = d.trainers;
    await playRound(d, {
      revealers: [t0!],
      votes: d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
    });
    const accrued = (await d.run.memberOf(t0!.address)).rewards;
    expect(accrued).to.equal(TRAINER_POOL);
    const before = await d.core.token.balanceOf(t0!.address);
    expect(await d.run.connect(t0!).claim.staticCall()).to.equal(accrued);
    await expect(d.run.connect(t0!).claim())
      .to.emit(d.run, "RewardsClaimed")
      .withArgs(d.runId, t0!.address, accrued);
    expect(await d.core.token.balanceOf(t0!.address)).to.equal(before + accrued);
    expect(await d.run.connect(t0!).claim.staticCall()).to.equal(0n);
    await expect(d.run.connect(t0!).claim()).not.to.emit(d.run, "RewardsClaimed");
    expect(await d.core.token.balanceOf(t0!.address)).to.equal(before + accrued);
  });

  it("rewards accrued after leaving stay claimable", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0] = d.trainers;
    await playRound(d, {
      revealers: [t0!],
      votes: d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
    });
    await send(d.run.connect(t0!).leave());
    expect(await d.run.connect(t0!).claim.staticCall()).to.equal(TRAINER_POOL);
  });

  it("over random rounds the rewards of a round never exceed its emission and equal what was minted to the run", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const rng = createRng("TrainingRunSettlement: random rounds");
    const runAddress = await d.run.getAddress();
    let outcomes = 0;
    const ROUNDS = 8;
    for (let r = 0; r < ROUNDS; r++) {
      const count = 1 + rng.nextInt(d.trainers.length);
      const revealers = rng.shuffle([...d.trainers]).slice(0, count);
      const round = (await d.run.currentRound()).round;
      const updates = new Map(
        revealers.map(
          (t) => [t.address, makeUpdate(t.address, round, BigInt(1 + rng.nextInt(3_000)))] as const,
        ),
      );
      const votes = d.validators.map((v) => ({
        validator: v,
        scores: revealers.map(() => (rng.nextFloat() < 0.2 ? 0 : rng.nextInt(1_000_001))),
        // mostly agreeing; with three candidate hashes a round can lack a 2/3 majority
        modelHash: [AGREED_HASH, AGREED_HASH, AGREED_HASH, OTHER_HASH, INITIAL_MODEL_HASH][
          rng.nextInt(5)
        ]!,
      }));
      const balanceBefore = await d.core.token.balanceOf(runAddress);
      const { receipt } = await playRound(d, { revealers, updates, votes });
      const paid = sumRewards(d, receipt);
      const minted = (await d.core.token.balanceOf(runAddress)) - balanceBefore;
      expect(paid).to.be.lessThanOrEqual(EMISSION);
      expect(minted).to.equal(paid);
      const agreed = events(d, receipt, "ModelAgreed");
      if (agreed.length > 0) {
        expect(agreed[0]!.args.emission).to.equal(paid);
        // rounding dust is at most one base unit per payee
        expect(EMISSION - paid).to.be.lessThan(BigInt(revealers.length + d.validators.length));
        outcomes++;
      } else {
        expect(paid).to.equal(0n);
      }
    }
    // the seed gives both successful and failed rounds
    expect(outcomes).to.be.greaterThan(0);
    expect(outcomes).to.be.lessThan(ROUNDS);
  });

  it("committing again in the next round works after a failed round, and each round opens with fresh counts", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const [t0] = d.trainers;
    await playRound(d, { revealers: [t0!], votes: [] });
    const info = await d.run.currentRound();
    expect([info.round, info.commits, info.reveals, info.votes]).to.deep.equal([2n, 0n, 0n, 0n]);
    const u = makeUpdate(t0!.address, 2n);
    await send(d.run.connect(t0!).commit(2n, commitmentOf({ runId: d.runId, round: 2n, node: t0!.address as Address, ...u })));
    await timeTo(d, info.commitDeadline);
    await expect(d.run.connect(t0!).reveal(2n, u.cid, u.contentHash, u.samples, u.salt)).to.emit(
      d.run,
      "Revealed",
    );
    expect(info.seed).to.not.equal(ethers.ZeroHash);
  });
});
