import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { Interface, ZeroHash, id } from "ethers";
import { network } from "hardhat";
import { RunStatus } from "./helpers/contractEnums.js";
import { ONE, passProposal } from "./helpers/deployCore.js";
import {
  AGREED_HASH,
  deployRun,
  fixRandomness,
  Phase,
  playRound,
  Role,
  send,
  SlashReason,
  timeTo,
  type RunDeployment,
} from "./helpers/deployRun.js";

/**
 * Issue 10, the StakeManager's part of the threat model: governance (the timelock, through
 * passed proposals) is an adversary. Each test carries out an attack end to end and checks
 * that it fails; each names the defence that stops it.
 *
 * The calls are encoded from plain signatures, not from the StakeManager's ABI, so the same
 * attack runs against a StakeManager that still has the functions it targets (the old
 * RUN_REGISTRAR_ROLE design) and against the one that does not.
 */
const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const DAY = 24n * 3600n;
const SIGNATURES = new Interface([
  "function grantRole(bytes32 role, address account)",
  "function registerRun(address run)",
  "function setAppealWindow(uint64 window)",
  "function setUnbondingPeriod(uint64 period)",
  "function setRunFactory(address factory)",
  "function slash(address account, uint256 amount, uint8 reason, uint256 runId, uint256 round, bytes32 evidenceHash)",
  "function resolveSlash(uint256 slashId)",
]);

/** Run #1 with 2 trainers and 3 validators, and a staker outside every run, asking to leave. */
async function fixture() {
  const d = await deployRun(connection, { trainers: 2, validators: 3 });
  const staker = d.core.holders[5]!;
  const sm = d.core.stakeManager;
  await send(d.core.token.connect(staker).approve(await sm.getAddress(), 10_000n * ONE));
  await send(sm.connect(staker).stake(10_000n * ONE));
  await send(sm.connect(staker).requestUnstake(10_000n * ONE));
  return { ...d, staker };
}

const exactStakeFixture = () =>
  deployRun(connection, { trainers: 2, validators: 3, trainerStake: 100n * ONE });

async function propose(d: RunDeployment, calls: string[], description: string) {
  const sm = await d.core.stakeManager.getAddress();
  return passProposal(
    d.core.governor.connect(d.core.holders[1]!),
    calls.map(() => sm),
    calls.map(() => 0n),
    calls,
    description,
  );
}

describe("Governance attacks on stake (issue 10)", function () {
  this.timeout(120_000);

  describe("G1: governance cannot seize stake", function () {
    it("ATTACK: one proposal grants the timelock RUN_REGISTRAR_ROLE, registers it as a run, shortens the appeal window and slashes unbonding stake; it reverts and the staker leaves whole", async function () {
      const d = await networkHelpers.loadFixture(fixture);
      const { staker } = d;
      const sm = d.core.stakeManager;
      const timelock = await d.core.timelock.getAddress();
      const calls = [
        SIGNATURES.encodeFunctionData("grantRole", [id("RUN_REGISTRAR_ROLE"), timelock]),
        SIGNATURES.encodeFunctionData("registerRun", [timelock]),
        SIGNATURES.encodeFunctionData("setAppealWindow", [60n]),
        SIGNATURES.encodeFunctionData("slash", [
          staker.address,
          10_000n * ONE,
          SlashReason.InvalidUpdate,
          1n,
          1n,
          ZeroHash,
        ]),
      ];
      const error = await propose(d, calls, "Seize the stake of a leaving staker").then(
        () => null,
        (e: { data?: string }) => e,
      );
      // without the defence the proposal executes: the slash sits in escrow for 60 s, then
      // anyone resolves it into the treasury, ~1 h 10 min after the vote, inside 7 days of unbonding
      expect(error, "the seizure proposal executed").to.not.equal(null);
      const reason = sm.interface.parseError(error!.data!);
      expect([reason?.name, ...(reason?.args ?? [])]).to.deep.equal([
        "StakeManagerNotRunFactory",
        timelock,
        await d.factory.getAddress(),
      ]);
      expect(await sm.isRun(timelock)).to.equal(false);
      expect(await sm.slashCount()).to.equal(0n);
      expect(await sm.appealWindow()).to.equal(d.core.options.appealWindow);
      // the staker's unbonding stake matures untouched and is paid in full
      await time.increase(d.core.options.unbondingPeriod);
      await expect(sm.connect(staker).withdraw())
        .to.emit(sm, "Withdrawn")
        .withArgs(staker.address, 10_000n * ONE, 1n);
    });

    it("ATTACK: governance names itself the run factory; no role lets it (only the deployer could, once, and did)", async function () {
      const d = await networkHelpers.loadFixture(fixture);
      const sm = d.core.stakeManager;
      const timelock = await d.core.timelock.getAddress();
      await expect(
        propose(
          d,
          [SIGNATURES.encodeFunctionData("setRunFactory", [timelock])],
          "Make the timelock the run factory",
        ),
      )
        .to.be.revertedWithCustomError(sm, "StakeManagerNotDeployer")
        .withArgs(timelock, d.core.deployer.address);
      await expect(sm.connect(d.core.deployer).setRunFactory(timelock))
        .to.be.revertedWithCustomError(sm, "StakeManagerRunFactoryAlreadySet")
        .withArgs(await d.factory.getAddress());
      expect(await sm.runFactory()).to.equal(await d.factory.getAddress());
    });

    it("ATTACK: a run governance creates through the factory cannot reach a staker who did not join it", async function () {
      const d = await networkHelpers.loadFixture(fixture);
      const sm = d.core.stakeManager;
      // the factory's runs are TrainingRun clones: they lock only what a node joins with and
      // slash only at finalize, out of that lock. Slashing by hand is not a run's power.
      await expect(
        sm
          .connect(d.governance)
          .slash(d.staker.address, ONE, SlashReason.InvalidUpdate, 1n, 1n, ZeroHash),
      )
        .to.be.revertedWithCustomError(sm, "StakeManagerNotRun")
        .withArgs(d.governance.address);
      expect(await sm.stakeOf(d.staker.address)).to.deep.equal([0n, 10_000n * ONE, 0n]);
    });
  });

  describe("G4: stake-rule changes wait longer than the unbonding period", function () {
    it("ATTACK: governance shortens the appeal window to 60 s; a staker who starts to leave when it is scheduled is out before it applies", async function () {
      const d = await networkHelpers.loadFixture(fixture);
      const sm = d.core.stakeManager;
      const leaver = d.core.holders[6]!;
      await send(d.core.token.connect(leaver).approve(await sm.getAddress(), ONE));
      await send(sm.connect(leaver).stake(ONE));
      const { executeReceipt } = await propose(
        d,
        [SIGNATURES.encodeFunctionData("setAppealWindow", [60n])],
        "Shorten the appeal window",
      );
      // without the defence the window is 60 s from the moment the proposal executes
      expect(await sm.appealWindow()).to.equal(d.core.options.appealWindow);
      await expect(executeReceipt.hash).to.emit(sm, "AppealWindowScheduled");
      const [, effectiveAt] = await sm.pendingAppealWindow();
      const scheduledAt = BigInt((await ethers.provider.getBlock(executeReceipt.blockNumber))!.timestamp);
      expect(effectiveAt).to.equal(scheduledAt + d.core.options.unbondingPeriod + DAY);
      await send(sm.connect(leaver).requestUnstake(ONE));
      const [entry] = await sm.unbondingEntries(leaver.address);
      expect(entry!.releaseAt).to.be.lessThan(effectiveAt);
      await time.increaseTo(entry!.releaseAt);
      await expect(sm.connect(leaver).withdraw()).to.emit(sm, "Withdrawn");
      expect(await sm.appealWindow()).to.equal(d.core.options.appealWindow);
      await time.increaseTo(effectiveAt);
      expect(await sm.appealWindow()).to.equal(60n);
    });
  });

  describe("deregistration of a halted run", function () {
    /** Round 1 up to its score deadline: t1 cheats (every validator scores it 0). */
    async function scoresAreIn(d: RunDeployment) {
      const [t0, t1] = d.trainers;
      return playRound(d, {
        revealers: [t0!, t1!],
        votes: d.validators.map((v) => ({ validator: v, scores: [900_000, 0], modelHash: AGREED_HASH })),
        finalize: false,
      });
    }

    it("ATTACK: governance halts after the scores are in and deregisters the run to cancel the cheater's slash; deregistration waits for the settlement", async function () {
      const d = await networkHelpers.loadFixture(fixture);
      const sm = d.core.stakeManager;
      const runAddress = await d.run.getAddress();
      const [, t1] = d.trainers;
      const { info } = await scoresAreIn(d);
      await send(d.run.connect(d.governance).halt());
      await timeTo(d, info.voteRevealDeadline);
      await expect(sm.connect(d.governance).deregisterRun(runAddress))
        .to.be.revertedWithCustomError(sm, "StakeManagerRunNotHalted")
        .withArgs(runAddress);
      const locked = await sm.lockedBy(runAddress, t1!.address);
      await expect(d.run.finalizeRound(info.round, 1024n)).to.emit(d.run, "NodeSlashed");
      expect(await sm.lockedBy(runAddress, t1!.address)).to.be.lessThan(locked);
      expect(await d.run.phase()).to.equal(Phase.Halted);
      await expect(sm.connect(d.governance).deregisterRun(runAddress))
        .to.emit(sm, "RunDeregistered")
        .withArgs(runAddress, d.governance.address);
    });

    it("only governance deregisters, only a halted run, once; then the run cannot lock or slash and each staker releases its lock", async function () {
      const d = await networkHelpers.loadFixture(fixture);
      const sm = d.core.stakeManager;
      const runAddress = await d.run.getAddress();
      const [t0] = d.trainers;
      await expect(sm.connect(d.outsider).deregisterRun(runAddress))
        .to.be.revertedWithCustomError(sm, "AccessControlUnauthorizedAccount")
        .withArgs(d.outsider.address, await sm.DEFAULT_ADMIN_ROLE());
      await expect(sm.connect(d.governance).deregisterRun(runAddress))
        .to.be.revertedWithCustomError(sm, "StakeManagerRunNotHalted")
        .withArgs(runAddress);
      await expect(sm.connect(d.governance).deregisterRun(d.outsider.address))
        .to.be.revertedWithCustomError(sm, "StakeManagerUnexpectedRunStatus")
        .withArgs(d.outsider.address, RunStatus.None, RunStatus.Registered);
      const info = await d.run.currentRound();
      await send(d.run.connect(d.governance).halt());
      await timeTo(d, info.voteRevealDeadline);
      await fixRandomness(d, info.round);
      await send(d.run.finalizeRound(info.round, 1024n));
      // a staker cannot release a lock of a run that is still registered
      await expect(sm.connect(t0!).releaseLock(runAddress))
        .to.be.revertedWithCustomError(sm, "StakeManagerUnexpectedRunStatus")
        .withArgs(runAddress, RunStatus.Registered, RunStatus.Deregistered);
      await send(sm.connect(d.governance).deregisterRun(runAddress));
      expect(await sm.isRun(runAddress)).to.equal(false);
      expect(await sm.runStatus(runAddress)).to.equal(RunStatus.Deregistered);
      await expect(sm.connect(d.governance).deregisterRun(runAddress))
        .to.be.revertedWithCustomError(sm, "StakeManagerUnexpectedRunStatus")
        .withArgs(runAddress, RunStatus.Deregistered, RunStatus.Registered);
      // the run's address cannot lock or slash any more (impersonated: its code never would)
      await networkHelpers.impersonateAccount(runAddress);
      await networkHelpers.setBalance(runAddress, ONE);
      const asRun = await ethers.getSigner(runAddress);
      await expect(sm.connect(asRun).lock(d.staker.address, 1n))
        .to.be.revertedWithCustomError(sm, "StakeManagerNotRun")
        .withArgs(runAddress);
      await expect(
        sm.connect(asRun).slash(t0!.address, ONE, SlashReason.InvalidUpdate, 1n, 1n, ZeroHash),
      )
        .to.be.revertedWithCustomError(sm, "StakeManagerNotRun")
        .withArgs(runAddress);
      // a staker releases its own lock; another has nothing there to release
      const locked = await sm.lockedBy(runAddress, t0!.address);
      expect(locked).to.equal(100n * ONE);
      await expect(sm.connect(t0!).releaseLock(runAddress))
        .to.emit(sm, "Unlocked")
        .withArgs(runAddress, t0!.address, locked, 0n);
      expect(await sm.lockedOf(t0!.address)).to.equal(0n);
      await expect(sm.connect(t0!).releaseLock(runAddress))
        .to.be.revertedWithCustomError(sm, "StakeManagerNoLock")
        .withArgs(runAddress, t0!.address);
      // the run's own leave() still works after deregistration (unlock stays open to it)
      const [, t1] = d.trainers;
      await expect(d.run.connect(t1!).leave()).to.emit(d.run, "Left");
      expect(await sm.lockedOf(t1!.address)).to.equal(0n);
      expect(await sm.lockingRunsOf(t1!.address)).to.deep.equal([]);
    });

    it("G5 through a real run: an appealed slash restores the lock, so the node's weight in the run is whole again", async function () {
      // the trainers stake exactly the run's minimum: nothing free absorbs the slash
      const d = await networkHelpers.loadFixture(exactStakeFixture);
      const sm = d.core.stakeManager;
      const runAddress = await d.run.getAddress();
      const [, t1] = d.trainers;
      const { info } = await scoresAreIn(d);
      await timeTo(d, info.voteRevealDeadline);
      const locked = await sm.lockedBy(runAddress, t1!.address);
      await send(d.run.finalizeRound(info.round, 1024n));
      const slashId = await sm.slashCount();
      const slashed = (await sm.slashRecord(slashId)).amount;
      expect(await sm.lockedBy(runAddress, t1!.address)).to.equal(locked - slashed);
      const { executeReceipt } = await propose(
        d,
        [sm.interface.encodeFunctionData("reverseSlash", [slashId])],
        "Appeal: t1's update was fine",
      );
      expect(await sm.lockedBy(runAddress, t1!.address)).to.equal(locked);
      expect(await sm.bondedOf(t1!.address)).to.equal(locked);
      await expect(executeReceipt.hash)
        .to.emit(sm, "LockRestored")
        .withArgs(runAddress, t1!.address, slashed, slashId);
      expect((await d.run.memberOf(t1!.address)).role).to.equal(Role.Trainer);
      // the run keeps its own record of the lock (cut by the slash); the StakeManager's restore
      // does not reach it until the node syncs, which puts its whole lock back into the run
      // (counting in draws from a later round, like a raise)
      expect((await d.run.memberOf(t1!.address)).lock).to.equal(locked - slashed);
      await expect(d.run.connect(t1!).syncLock())
        .to.emit(d.run, "LockRaised")
        .withArgs(d.runId, t1!.address, Role.Trainer, slashed, locked, anyValue);
      expect((await d.run.memberOf(t1!.address)).lock).to.equal(locked);
      // nothing left to sync: a second call reverts
      await expect(d.run.connect(t1!).syncLock())
        .to.be.revertedWithCustomError(d.run, "TrainingRunLockInSync")
        .withArgs(t1!.address, locked, locked);
    });
  });
});
