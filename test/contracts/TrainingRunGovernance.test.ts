import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { network } from "hardhat";
import type { Address } from "viem";
import { commitmentOf } from "../../node/src/chain/commitment.js";
import { ONE } from "./helpers/deployCore.js";
import {
  AGREED_HASH,
  deployRun,
  fixRandomness,
  INITIAL_MODEL_CID,
  INITIAL_MODEL_HASH,
  makeUpdate,
  Phase,
  playRound,
  Role,
  RoundFailure,
  type RunParams,
  send,
  SlashReason,
  TEST_RUN_PARAMS,
  timeTo,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const P = TEST_RUN_PARAMS;
const runFixture = () => deployRun(connection, { trainers: 3, validators: 3 });

const MAX_UINT96 = 2n ** 96n - 1n;
const WEEK = 7n * 24n * 3600n;

/** One broken rule per row: the params, the error and its arguments. */
const PARAM_RULES: { name: string; params: Partial<RunParams>; error: string; args: bigint[] }[] = [
  {
    name: "modelId zero",
    params: { modelId: ethers.ZeroHash },
    error: "TrainingRunModelIdZero",
    args: [],
  },
  {
    name: "innerSteps 0",
    params: { innerSteps: 0 },
    error: "TrainingRunInnerStepsOutOfRange",
    args: [0n, 1n, 100_000n],
  },
  {
    name: "batchSize too big",
    params: { batchSize: 65_537 },
    error: "TrainingRunBatchSizeOutOfRange",
    args: [65_537n, 1n, 65_536n],
  },
  {
    name: "innerLr above 1",
    params: { innerLrPpm: 1_000_001 },
    error: "TrainingRunInnerLrOutOfRange",
    args: [1_000_001n, 1n, 1_000_000n],
  },
  {
    name: "outerLr 0",
    params: { outerLrPpm: 0 },
    error: "TrainingRunOuterLrOutOfRange",
    args: [0n, 1n, 2_000_000n],
  },
  {
    name: "momentum 1",
    params: { outerMomentumPpm: 1_000_000 },
    error: "TrainingRunOuterMomentumOutOfRange",
    args: [1_000_000n, 0n, 999_999n],
  },
  {
    name: "density 0",
    params: { densityPpm: 0 },
    error: "TrainingRunDensityOutOfRange",
    args: [0n, 1n, 1_000_000n],
  },
  {
    name: "quantBits 3",
    params: { quantBits: 3 },
    error: "TrainingRunQuantBitsInvalid",
    args: [3n],
  },
  {
    name: "aggregation 2",
    params: { aggregation: 2 },
    error: "TrainingRunAggregationInvalid",
    args: [2n],
  },
  {
    name: "trim half",
    params: { trimPpm: 500_000 },
    error: "TrainingRunTrimOutOfRange",
    args: [500_000n, 0n, 499_999n],
  },
  {
    name: "clip below 1x",
    params: { clipMultiplePpm: 999_999 },
    error: "TrainingRunClipMultipleOutOfRange",
    args: [999_999n, 1_000_000n, 100_000_000n],
  },
  {
    name: "checkpointEvery 0",
    params: { checkpointEvery: 0 },
    error: "TrainingRunCheckpointEveryOutOfRange",
    args: [0n, 1n, 1_000_000n],
  },
  {
    name: "commitDuration 0",
    params: { commitDuration: 0 },
    error: "TrainingRunCommitDurationOutOfRange",
    args: [0n, 1n, WEEK],
  },
  {
    name: "revealDuration over a week",
    params: { revealDuration: WEEK + 1n },
    error: "TrainingRunRevealDurationOutOfRange",
    args: [WEEK + 1n, 1n, WEEK],
  },
  {
    name: "scoreDuration 0",
    params: { scoreDuration: 0 },
    error: "TrainingRunScoreDurationOutOfRange",
    args: [0n, 1n, WEEK],
  },
  {
    name: "voteRevealDuration 0",
    params: { voteRevealDuration: 0 },
    error: "TrainingRunVoteRevealDurationOutOfRange",
    args: [0n, 1n, WEEK],
  },
  {
    name: "maxNodes 1025",
    params: { maxNodesPerRound: 1025 },
    error: "TrainingRunMaxNodesOutOfRange",
    args: [1025n, 1n, 1024n],
  },
  {
    name: "trainerSeats above maxNodes",
    params: { maxNodesPerRound: 4, trainerSeats: 5, minUpdates: 1 },
    error: "TrainingRunTrainerSeatsOutOfRange",
    args: [5n, 1n, 4n],
  },
  {
    name: "committeeSize 17",
    params: { committeeSize: 17 },
    error: "TrainingRunCommitteeSizeOutOfRange",
    args: [17n, 1n, 16n],
  },
  {
    name: "scorersPerUpdate above committeeSize",
    params: { committeeSize: 4, scorersPerUpdate: 5 },
    error: "TrainingRunScorersPerUpdateOutOfRange",
    args: [5n, 1n, 4n],
  },
  {
    name: "minUpdates above maxNodes",
    params: { maxNodesPerRound: 4, trainerSeats: 4, minUpdates: 5 },
    error: "TrainingRunMinUpdatesOutOfRange",
    args: [5n, 1n, 4n],
  },
  {
    name: "minUpdates 0",
    params: { minUpdates: 0 },
    error: "TrainingRunMinUpdatesOutOfRange",
    args: [0n, 1n, 64n],
  },
  {
    name: "acceptScore 0",
    params: { acceptScorePpm: 0 },
    error: "TrainingRunAcceptScoreOutOfRange",
    args: [0n, 1n, 1_000_000n],
  },
  {
    name: "minTrainerStake 0",
    params: { minTrainerStake: 0n },
    error: "TrainingRunMinTrainerStakeOutOfRange",
    args: [0n, 1n, MAX_UINT96],
  },
  {
    name: "minValidatorStake over uint96",
    params: { minValidatorStake: MAX_UINT96 + 1n },
    error: "TrainingRunMinValidatorStakeOutOfRange",
    args: [MAX_UINT96 + 1n, 1n, MAX_UINT96],
  },
  {
    name: "invalidSlashBps over 100 %",
    params: { invalidSlashBps: 10_001 },
    error: "TrainingRunInvalidSlashBpsOutOfRange",
    args: [10_001n, 0n, 10_000n],
  },
  {
    name: "noRevealSlashBps over 100 %",
    params: { noRevealSlashBps: 10_001 },
    error: "TrainingRunNoRevealSlashBpsOutOfRange",
    args: [10_001n, 0n, 10_000n],
  },
  {
    name: "validatorSlashBps over 100 %",
    params: { validatorSlashBps: 10_001 },
    error: "TrainingRunValidatorSlashBpsOutOfRange",
    args: [10_001n, 0n, 10_000n],
  },
  {
    name: "validatorShareBps over 100 %",
    params: { validatorShareBps: 10_001 },
    error: "TrainingRunValidatorShareBpsOutOfRange",
    args: [10_001n, 0n, 10_000n],
  },
  {
    name: "emission over uint96",
    params: { emissionPerRound: MAX_UINT96 + 1n },
    error: "TrainingRunEmissionOutOfRange",
    args: [MAX_UINT96 + 1n, 0n, MAX_UINT96],
  },
];

describe("TrainingRun: governance, guardian, pause and halt", function () {
  describe("setParams", function () {
    it("only governance may set params; the guardian and outsiders revert TrainingRunNotGovernance", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      for (const caller of [d.guardian, d.outsider]) {
        await expect(d.run.connect(caller).setParams(P))
          .to.be.revertedWithCustomError(d.run, "TrainingRunNotGovernance")
          .withArgs(caller.address);
      }
    });

    it("new params take effect when the next round opens, not in the round in progress", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const next: RunParams = {
        ...P,
        commitDuration: 100,
        revealDuration: 200,
        scoreDuration: 300,
        voteRevealDuration: 400,
        minTrainerStake: 50n * ONE,
      };
      const before = await d.run.currentRound();
      await expect(d.run.connect(d.governance).setParams(next)).to.emit(d.run, "ParamsSet");
      const [pending, stored] = await d.run.pendingParams();
      expect(pending).to.equal(true);
      expect(stored.commitDuration).to.equal(100n);
      // the round in progress keeps its deadlines and params
      expect(await d.run.currentRound()).to.deep.equal(before);
      expect((await d.run.params()).commitDuration).to.equal(BigInt(P.commitDuration));

      await timeTo(d, before.voteRevealDeadline);
      await fixRandomness(d, before.round);
      const receipt = await send(d.run.finalizeRound(before.round, 1024n));
      await expect(receipt.hash).to.emit(d.run, "ParamsApplied").withArgs(d.runId, 3n);
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      const info = await d.run.currentRound();
      const t = BigInt(block!.timestamp);
      expect([
        info.round,
        info.commitDeadline,
        info.revealDeadline,
        info.scoreDeadline,
        info.voteRevealDeadline,
      ]).to.deep.equal([3n, t + 100n, t + 300n, t + 600n, t + 1000n]);
      expect((await d.run.params()).minTrainerStake).to.equal(50n * ONE);
      expect((await d.run.pendingParams())[0]).to.equal(false);
    });

    it("ParamsSet carries the round it applies from, the params it replaces and the new ones", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const first: RunParams = { ...P, emissionPerRound: 5n * ONE };
      const second: RunParams = { ...P, emissionPerRound: 7n * ONE };
      await send(d.run.connect(d.governance).setParams(first));
      const receipt = await send(d.run.connect(d.governance).setParams(second));
      const [event] = receipt.logs
        .map((l) => d.run.interface.parseLog(l))
        .filter((e) => e?.name === "ParamsSet");
      expect(event!.args.runId).to.equal(d.runId);
      expect(event!.args.effectiveRound).to.equal(3n);
      // the second call replaces the still-pending first one
      expect(event!.args.oldParams.emissionPerRound).to.equal(5n * ONE);
      expect(event!.args.newParams.emissionPerRound).to.equal(7n * ONE);
    });

    for (const rule of PARAM_RULES) {
      it(`rejects ${rule.name} with ${rule.error}`, async function () {
        const d = await networkHelpers.loadFixture(runFixture);
        await expect(d.run.connect(d.governance).setParams({ ...P, ...rule.params }))
          .to.be.revertedWithCustomError(d.run, rule.error)
          .withArgs(...rule.args);
      });
    }
  });

  describe("pause and unpause", function () {
    it("the guardian and governance may pause, an outsider may not; only governance unpauses", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      await expect(d.run.connect(d.outsider).pause())
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotGuardianOrGovernance")
        .withArgs(d.outsider.address);
      await expect(d.run.connect(d.guardian).pause())
        .to.emit(d.run, "Paused")
        .withArgs(d.runId, 2n, d.guardian.address);
      expect(await d.run.paused()).to.equal(true);
      // the open round runs on: the pause shows in phase() once the round is finalized
      expect(await d.run.phase()).to.equal(Phase.Commit);
      await expect(d.run.connect(d.guardian).pause())
        .to.be.revertedWithCustomError(d.run, "TrainingRunPaused")
        .withArgs(2n);
      await expect(d.run.connect(d.guardian).unpause())
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotGovernance")
        .withArgs(d.guardian.address);
      await expect(d.run.connect(d.governance).unpause())
        .to.emit(d.run, "Unpaused")
        .withArgs(d.runId, 2n, d.governance.address);
      await expect(d.run.connect(d.governance).unpause())
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotPaused")
        .withArgs(2n);
      await expect(d.run.connect(d.governance).pause()).to.emit(d.run, "Paused");
    });

    it("once the round closed while paused, commit, reveal, commitVote and revealVote revert TrainingRunPaused; joining still works", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      await send(d.run.connect(d.guardian).pause());
      await playRound(d, { revealers: [], votes: [] });
      expect(await d.run.phase()).to.equal(Phase.Paused);
      const [t0] = d.trainers;
      const u = makeUpdate(t0!.address, 3n);
      for (const round of [2n, 3n]) {
        await expect(d.run.connect(t0!).commit(round, ethers.ZeroHash))
          .to.be.revertedWithCustomError(d.run, "TrainingRunPaused")
          .withArgs(2n);
      }
      await expect(
        d.run.connect(t0!).reveal(3n, u.cid, u.contentHash, u.samples, u.salt),
      ).to.be.revertedWithCustomError(d.run, "TrainingRunPaused");
      await expect(
        d.run.connect(d.validators[0]!).commitVote(3n, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(d.run, "TrainingRunPaused");
      await expect(
        d.run.connect(d.validators[0]!).revealVote(3n, [], [], AGREED_HASH, 0n, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(d.run, "TrainingRunPaused");
      await send(d.core.token.connect(d.core.deployer).transfer(d.outsider.address, 100n * ONE));
      await send(
        d.core.token
          .connect(d.outsider)
          .approve(await d.core.stakeManager.getAddress(), 100n * ONE),
      );
      await send(d.core.stakeManager.connect(d.outsider).stake(100n * ONE));
      await expect(d.run.connect(d.outsider).join(Role.Trainer, 100n * ONE)).to.emit(d.run, "Joined");
    });

    it("a round that expires during a pause settles as usual (its no-reveal slashes included) and the next round opens only at unpause", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [t0, t1] = d.trainers;
      // both trainers commit and, although the pause does not stop them, never reveal
      const { info } = await playRound(d, {
        revealers: [],
        silent: [t0!, t1!],
        votes: [],
        finalize: false,
      });
      await send(d.run.connect(d.guardian).pause());
      const supply = await d.core.token.totalSupply();
      const receipt = await send(d.run.connect(d.outsider).finalizeRound(2n, 1024n));
      await expect(receipt.hash)
        .to.emit(d.run, "RoundFailed")
        .withArgs(d.runId, 2n, RoundFailure.NoValidatorVotes);
      await expect(receipt.hash).not.to.emit(d.run, "RoundOpened");
      for (const t of [t0!, t1!]) {
        await expect(receipt.hash)
          .to.emit(d.run, "NodeSlashed")
          .withArgs(d.runId, 2n, t.address, SlashReason.NoReveal, anyValue, anyValue);
      }
      expect(await d.core.token.totalSupply()).to.equal(supply);
      const closed = await d.run.currentRound();
      expect([closed.round, closed.finalized]).to.deep.equal([2n, true]);
      await expect(d.run.finalizeRound(2n, 1024n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunRoundFinalized")
        .withArgs(2n);
      // the commits were finalized, so the trainers may leave
      await expect(d.run.connect(t1!).leave()).to.emit(d.run, "Left");

      const unpause = await send(d.run.connect(d.governance).unpause());
      await expect(unpause.hash).to.emit(d.run, "RoundOpened");
      const opened = await d.run.currentRound();
      const block = await ethers.provider.getBlock(unpause.blockNumber);
      expect([opened.round, opened.finalized, opened.commitDeadline]).to.deep.equal([
        3n,
        false,
        BigInt(block!.timestamp) + BigInt(P.commitDuration),
      ]);
      expect(opened.commitDeadline).to.be.greaterThan(info.voteRevealDeadline);
      // t0's lock was slashed below the minimum: stale, it takes no seat until raised (P5)
      await expect(d.run.connect(t0!).commit(3n, ethers.ZeroHash)).to.be.revertedWithCustomError(
        d.run,
        "TrainingRunLockBelowMinimum",
      );
      await send(d.run.connect(t0!).raiseLock(10n * ONE));
      expect((await d.run.memberOf(t0!.address)).eligibleFrom).to.equal(4n);
    });

    it("a round paused and unpaused while open settles normally and the next round opens at its finalize", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      await send(d.run.connect(d.guardian).pause());
      await send(d.run.connect(d.governance).unpause());
      const { receipt } = await playRound(d, {
        revealers: [d.trainers[0]!],
        votes: d.validators.map((v) => ({
          validator: v,
          scores: [900_000],
          modelHash: AGREED_HASH,
        })),
      });
      await expect(receipt!.hash).to.emit(d.run, "ModelAgreed");
      await expect(receipt!.hash).not.to.emit(d.run, "RoundFailed");
      await expect(receipt!.hash).to.emit(d.run, "RoundOpened");
      expect((await d.run.currentRound()).round).to.equal(3n);
    });
  });

  describe("the guardian and governance pause only future rounds (G3)", function () {
    /**
     * Plays round 1 up to the end of its score phase: t0 reveals an honest update, t1 (the
     * cheater) reveals one every validator scores 0, and every validator has voted. The scores
     * are public, so whoever holds pause can see that t1 is about to be slashed.
     */
    async function scoresAreIn(d: Awaited<ReturnType<typeof runFixture>>) {
      const [t0, t1] = d.trainers;
      return playRound(d, {
        revealers: [t0!, t1!],
        votes: d.validators.map((v) => ({ validator: v, scores: [900_000, 0], modelHash: AGREED_HASH })),
        finalize: false,
      });
    }

    for (const who of ["guardian", "governance"] as const) {
      it(`ATTACK: the ${who} pauses after the scores are in; the round still settles with the cheater's slash and the honest reward`, async function () {
        const d = await networkHelpers.loadFixture(runFixture);
        const [t0, t1] = d.trainers;
        const runAddress = await d.run.getAddress();
        const { info } = await scoresAreIn(d);
        const locked = await d.core.stakeManager.lockedBy(runAddress, t1!.address);
        await expect(d.run.connect(d[who]).pause())
          .to.emit(d.run, "Paused")
          .withArgs(d.runId, 2n, d[who].address);
        // the pause changes nothing in the open round: it still runs its phases
        expect(await d.run.phase()).to.equal(Phase.Finalizable);
        // the cheater cannot walk away before the round settles
        await expect(d.run.connect(t1!).leave())
          .to.be.revertedWithCustomError(d.run, "TrainingRunLeaveWhileActive")
          .withArgs(t1!.address, 2n);
        await timeTo(d, info.voteRevealDeadline);
        const receipt = await send(d.run.connect(d.outsider).finalizeRound(2n, 1024n));
        const expected = (locked * BigInt(P.invalidSlashBps)) / 10_000n;
        await expect(receipt.hash)
          .to.emit(d.run, "NodeSlashed")
          .withArgs(d.runId, 2n, t1!.address, SlashReason.InvalidUpdate, expected, anyValue);
        await expect(receipt.hash).to.emit(d.run, "ModelAgreed");
        await expect(receipt.hash).not.to.emit(d.run, "RoundFailed");
        expect((await d.run.memberOf(t0!.address)).rewards).to.be.greaterThan(0n);
        // the pause takes effect now: no round opens until governance resumes the run
        await expect(receipt.hash).not.to.emit(d.run, "RoundOpened");
        expect(await d.run.phase()).to.equal(Phase.Paused);
        await expect(d.run.connect(d.governance).unpause()).to.emit(d.run, "RoundOpened");
        expect((await d.run.currentRound()).round).to.equal(3n);
      });
    }

    it("ATTACK: governance halts after the scores are in; the cheater cannot leave, and the round still settles with its slash", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [, t1] = d.trainers;
      const runAddress = await d.run.getAddress();
      const { info } = await scoresAreIn(d);
      const locked = await d.core.stakeManager.lockedBy(runAddress, t1!.address);
      await expect(d.run.connect(d.governance).halt()).to.emit(d.run, "Halted").withArgs(d.runId, 2n, d.governance.address);
      await expect(d.run.connect(t1!).leave())
        .to.be.revertedWithCustomError(d.run, "TrainingRunLeaveWhileActive")
        .withArgs(t1!.address, 2n);
      await timeTo(d, info.voteRevealDeadline);
      const receipt = await send(d.run.connect(d.outsider).finalizeRound(2n, 1024n));
      const expected = (locked * BigInt(P.invalidSlashBps)) / 10_000n;
      await expect(receipt.hash)
        .to.emit(d.run, "NodeSlashed")
        .withArgs(d.runId, 2n, t1!.address, SlashReason.InvalidUpdate, expected, anyValue);
      await expect(receipt.hash).not.to.emit(d.run, "RoundOpened");
      expect(await d.run.phase()).to.equal(Phase.Halted);
      // after the last round settled, everyone may leave with what is left
      await expect(d.run.connect(t1!).leave()).to.emit(d.run, "Left");
    });

    it("a pause in the commit phase voids nothing: the round's commits, reveals and votes go on and its no-reveal slash applies", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [t0, t1] = d.trainers;
      await send(d.run.connect(d.guardian).pause());
      expect(await d.run.paused()).to.equal(true);
      expect(await d.run.phase()).to.equal(Phase.Commit);
      const { receipt } = await playRound(d, {
        revealers: [t0!],
        silent: [t1!],
        votes: d.validators.map((v) => ({ validator: v, scores: [900_000], modelHash: AGREED_HASH })),
      });
      await expect(receipt!.hash)
        .to.emit(d.run, "NodeSlashed")
        .withArgs(d.runId, 2n, t1!.address, SlashReason.NoReveal, anyValue, anyValue);
      await expect(receipt!.hash).to.emit(d.run, "ModelAgreed");
      await expect(receipt!.hash).not.to.emit(d.run, "RoundOpened");
      // the next round does not open, and nothing can be sent for it
      await expect(d.run.connect(t0!).commit(3n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunPaused")
        .withArgs(2n);
    });
  });

  describe("halt", function () {
    it("only governance halts; the guardian and outsiders cannot", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      for (const caller of [d.guardian, d.outsider]) {
        await expect(d.run.connect(caller).halt())
          .to.be.revertedWithCustomError(d.run, "TrainingRunNotGovernance")
          .withArgs(caller.address);
      }
      await expect(d.run.connect(d.governance).halt())
        .to.emit(d.run, "Halted")
        .withArgs(d.runId, 2n, d.governance.address);
      expect(await d.run.halted()).to.equal(true);
      // the open round runs on; the halt shows in phase() once it is finalized
      expect(await d.run.phase()).to.equal(Phase.Commit);
      await playRound(d, { revealers: [], votes: [] });
      expect(await d.run.phase()).to.equal(Phase.Halted);
    });

    it("after a halt the open round still settles (its no-reveal slash included) but no round opens and nothing more is minted; then the committed trainer can leave, unstake and withdraw", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [t0] = d.trainers;
      const runAddress = await d.run.getAddress();
      const info = await d.run.currentRound();
      const u = makeUpdate(t0!.address, 2n);
      await send(d.run.connect(t0!).commit(2n, commitmentOf({ runId: d.runId, round: 2n, node: t0!.address as Address, ...u })));
      await send(d.run.connect(d.governance).halt());
      const supply = await d.core.token.totalSupply();

      // the committed trainer cannot escape the round's settlement by leaving
      await expect(d.run.connect(t0!).leave())
        .to.be.revertedWithCustomError(d.run, "TrainingRunLeaveWhileActive")
        .withArgs(t0!.address, 2n);
      await timeTo(d, info.voteRevealDeadline);
      await fixRandomness(d, 2n);
      const receipt = await send(d.run.connect(d.outsider).finalizeRound(2n, 1024n));
      const slashed = (BigInt(P.minTrainerStake) * BigInt(P.noRevealSlashBps)) / 10_000n;
      await expect(receipt.hash)
        .to.emit(d.run, "NodeSlashed")
        .withArgs(d.runId, 2n, t0!.address, SlashReason.NoReveal, slashed, anyValue);
      await expect(receipt.hash).not.to.emit(d.run, "RoundOpened");
      await expect(d.run.finalizeRound(2n, 1024n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunRoundFinalized")
        .withArgs(2n);
      await expect(d.run.connect(t0!).reveal(2n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunHalted")
        .withArgs(2n);
      for (const call of [
        d.run.connect(d.governance).pause(),
        d.run.connect(d.governance).unpause(),
        d.run.connect(d.governance).halt(),
        d.run.connect(d.governance).setParams(P),
        d.run.connect(d.outsider).join(Role.Trainer, P.minTrainerStake),
      ]) {
        await expect(call).to.be.revertedWithCustomError(d.run, "TrainingRunHalted");
      }
      expect((await d.run.currentRound()).round).to.equal(2n);
      expect(await d.core.token.totalSupply()).to.equal(supply);

      // the round is settled: leaving releases the run's lock
      await expect(d.run.connect(t0!).leave()).to.emit(d.run, "Left");
      expect(await d.core.stakeManager.lockedBy(runAddress, t0!.address)).to.equal(0n);
      const bonded = await d.core.stakeManager.bondedOf(t0!.address);
      await send(d.core.stakeManager.connect(t0!).requestUnstake(bonded));
      await networkHelpers.time.increase(d.core.options.unbondingPeriod + 1n);
      const before = await d.core.token.balanceOf(t0!.address);
      await send(d.core.stakeManager.connect(t0!).withdraw());
      expect(await d.core.token.balanceOf(t0!.address)).to.equal(before + bonded);
    });

    it("rewards accrued before a halt can still be claimed", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [t0] = d.trainers;
      await playRound(d, {
        revealers: [t0!],
        votes: d.validators.map((v) => ({
          validator: v,
          scores: [900_000],
          modelHash: AGREED_HASH,
        })),
      });
      await send(d.run.connect(d.governance).halt());
      const accrued = (await d.run.memberOf(t0!.address)).rewards;
      expect(accrued).to.be.greaterThan(0n);
      await expect(d.run.connect(t0!).claim())
        .to.emit(d.run, "RewardsClaimed")
        .withArgs(d.runId, t0!.address, accrued);
    });
  });

  describe("guardian", function () {
    it("governance replaces the guardian; the old one can no longer pause", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      await expect(d.run.connect(d.guardian).setGuardian(d.outsider.address))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotGovernance")
        .withArgs(d.guardian.address);
      await expect(d.run.connect(d.governance).setGuardian(d.outsider.address))
        .to.emit(d.run, "GuardianSet")
        .withArgs(d.runId, d.guardian.address, d.outsider.address);
      await expect(d.run.connect(d.guardian).pause()).to.be.revertedWithCustomError(
        d.run,
        "TrainingRunNotGuardianOrGovernance",
      );
      await expect(d.run.connect(d.outsider).pause()).to.emit(d.run, "Paused");
    });

    it("governance can leave pausing to itself alone: with guardian address(0) nobody else pauses", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      await expect(d.run.connect(d.governance).setGuardian(ethers.ZeroAddress))
        .to.emit(d.run, "GuardianSet")
        .withArgs(d.runId, d.guardian.address, ethers.ZeroAddress);
      expect(await d.run.guardian()).to.equal(ethers.ZeroAddress);
      for (const caller of [d.guardian, d.outsider]) {
        await expect(d.run.connect(caller).pause())
          .to.be.revertedWithCustomError(d.run, "TrainingRunNotGuardianOrGovernance")
          .withArgs(caller.address);
      }
      await expect(d.run.connect(d.governance).pause()).to.emit(d.run, "Paused");
    });

    it("the factory's default guardian is a governance setting: new runs get the new one, earlier runs keep theirs, the old one cannot pause a new run", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      for (const caller of [d.guardian, d.outsider, d.core.deployer]) {
        await expect(d.factory.connect(caller).setDefaultGuardian(caller.address))
          .to.be.revertedWithCustomError(d.factory, "RunFactoryNotGovernance")
          .withArgs(caller.address);
      }
      await expect(d.factory.connect(d.governance).setDefaultGuardian(d.outsider.address))
        .to.emit(d.factory, "DefaultGuardianSet")
        .withArgs(d.guardian.address, d.outsider.address);
      expect(await d.factory.guardian()).to.equal(d.outsider.address);

      await send(d.factory.connect(d.governance).createRun(P, INITIAL_MODEL_HASH, INITIAL_MODEL_CID));
      const second = await ethers.getContractAt("TrainingRun", await d.factory.runOf(await d.factory.runCount()));
      expect(await second.guardian()).to.equal(d.outsider.address);
      expect(await d.run.guardian()).to.equal(d.guardian.address);
      await expect(second.connect(d.guardian).pause())
        .to.be.revertedWithCustomError(second, "TrainingRunNotGuardianOrGovernance")
        .withArgs(d.guardian.address);
      await expect(second.connect(d.outsider).pause()).to.emit(second, "Paused");
    });
  });
});
