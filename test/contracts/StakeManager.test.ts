import { expect } from "chai";
import { network } from "hardhat";
import { SlashReason as Reason } from "../../node/src/chain/contract-enums.js";
import { RunStatus, SlashStatus as Status } from "./helpers/contractEnums.js";
import { deployCore, ONE, timelockSigner, type Core } from "./helpers/deployCore.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;


const DAY = 24n * 3600n;
const UNBONDING = 7n * DAY;
const APPEAL = 3n * DAY;
const EVIDENCE = ethers.id("evidence");
const MAX_ENTRIES = 16;

/**
 * The core deployment plus: a registrar (the deployer names it the run factory, as the
 * deployment names the RunFactory), two registered "runs" (EOAs: registerRun accepts any
 * address, so the run's calls are real transactions from those accounts) and three stakers
 * with an unlimited allowance.
 */
async function stakingFixture(overrides: Parameters<typeof deployCore>[1] = {}) {
  const core = await deployCore(connection, {
    unbondingPeriod: UNBONDING,
    appealWindow: APPEAL,
    ...overrides,
  });
  const { stakeManager, token, others, holders } = core;
  const admin = await timelockSigner(core);
  const [registrar, runA, runB, outsider] = others as [
    typeof admin,
    typeof admin,
    typeof admin,
    typeof admin,
  ];
  await (await stakeManager.connect(core.deployer).setRunFactory(registrar.address)).wait();
  await (await stakeManager.connect(registrar).registerRun(runA.address)).wait();
  await (await stakeManager.connect(registrar).registerRun(runB.address)).wait();
  const [alice, bob, carol] = [holders[1]!, holders[2]!, holders[3]!];
  const smAddress = await stakeManager.getAddress();
  for (const account of [alice, bob, carol]) {
    await (await token.connect(account).approve(smAddress, ethers.MaxUint256)).wait();
  }
  return { ...core, admin, registrar, runA, runB, outsider, alice, bob, carol, smAddress };
}
const fixture = () => stakingFixture();
const burnFixture = () => stakingFixture({ treasury: "burn" });

/** Checks the conservation invariant the property test checks after every operation. */
async function expectConserved(core: Core): Promise<void> {
  const sm = core.stakeManager;
  const held = await core.token.balanceOf(await sm.getAddress());
  expect(held).to.equal(
    (await sm.totalBonded()) + (await sm.totalUnbonding()) + (await sm.totalEscrowed()),
  );
}

async function blockTime(
  tx: Promise<{ wait: () => Promise<{ blockNumber: number } | null> }>,
): Promise<bigint> {
  const receipt = await (await tx).wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return BigInt(block!.timestamp);
}

describe("StakeManager", function () {
  describe("construction", function () {
    it("stores the token, admin, periods and treasury", async function () {
      const { stakeManager, token, timelock } = await networkHelpers.loadFixture(fixture);
      expect(await stakeManager.token()).to.equal(await token.getAddress());
      expect(
        await stakeManager.hasRole(
          await stakeManager.DEFAULT_ADMIN_ROLE(),
          await timelock.getAddress(),
        ),
      ).to.equal(true);
      expect(await stakeManager.unbondingPeriod()).to.equal(UNBONDING);
      expect(await stakeManager.appealWindow()).to.equal(APPEAL);
      expect(await stakeManager.treasury()).to.equal(await timelock.getAddress());
    });

    it("rejects a zero token or admin, and periods out of bounds", async function () {
      const { token, alice } = await networkHelpers.loadFixture(fixture);
      const factory = await ethers.getContractFactory("StakeManager");
      const t = await token.getAddress();
      const z = ethers.ZeroAddress;
      await expect(
        ethers.deployContract("StakeManager", [z, alice.address, 60n, 60n, z]),
      ).to.be.revertedWithCustomError(factory, "StakeManagerZeroAddress");
      await expect(
        ethers.deployContract("StakeManager", [t, z, 60n, 60n, z]),
      ).to.be.revertedWithCustomError(factory, "StakeManagerZeroAddress");
      await expect(ethers.deployContract("StakeManager", [t, alice.address, 59n, 60n, z]))
        .to.be.revertedWithCustomError(factory, "StakeManagerUnbondingPeriodOutOfBounds")
        .withArgs(59n, 60n, 365n * DAY);
      await expect(
        ethers.deployContract("StakeManager", [t, alice.address, 60n, 365n * DAY + 1n, z]),
      )
        .to.be.revertedWithCustomError(factory, "StakeManagerAppealWindowOutOfBounds")
        .withArgs(365n * DAY + 1n, 60n, 365n * DAY);
    });
  });

  describe("stake", function () {
    it("pulls the tokens and adds them to the bonded stake", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, token, alice, smAddress } = core;
      const before = await token.balanceOf(alice.address);
      await expect(stakeManager.connect(alice).stake(100n * ONE))
        .to.emit(stakeManager, "Staked")
        .withArgs(alice.address, 100n * ONE, 100n * ONE);
      await expect(stakeManager.connect(alice).stake(50n * ONE))
        .to.emit(stakeManager, "Staked")
        .withArgs(alice.address, 50n * ONE, 150n * ONE);
      expect(await stakeManager.bondedOf(alice.address)).to.equal(150n * ONE);
      expect(await stakeManager.freeStakeOf(alice.address)).to.equal(150n * ONE);
      expect(await token.balanceOf(alice.address)).to.equal(before - 150n * ONE);
      expect(await token.balanceOf(smAddress)).to.equal(150n * ONE);
      expect(await stakeManager.totalBonded()).to.equal(150n * ONE);
    });

    it("stake reverts for a zero amount", async function () {
      const { stakeManager, alice } = await networkHelpers.loadFixture(fixture);
      await expect(stakeManager.connect(alice).stake(0n)).to.be.revertedWithCustomError(
        stakeManager,
        "StakeManagerZeroAmount",
      );
    });

    it("stake reverts without an allowance", async function () {
      const { stakeManager, token, holders, smAddress } = await networkHelpers.loadFixture(fixture);
      const dave = holders[4]!;
      await expect(stakeManager.connect(dave).stake(ONE))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(smAddress, 0n, ONE);
    });

    async function permitSig(
      core: Awaited<ReturnType<typeof stakingFixture>>,
      owner: typeof core.alice,
      value: bigint,
      deadline: bigint,
    ) {
      const domain = await core.token.eip712Domain();
      return ethers.Signature.from(
        await owner.signTypedData(
          {
            name: domain.name,
            version: domain.version,
            chainId: domain.chainId,
            verifyingContract: domain.verifyingContract,
          },
          {
            Permit: [
              { name: "owner", type: "address" },
              { name: "spender", type: "address" },
              { name: "value", type: "uint256" },
              { name: "nonce", type: "uint256" },
              { name: "deadline", type: "uint256" },
            ],
          },
          {
            owner: owner.address,
            spender: core.smAddress,
            value,
            nonce: await core.token.nonces(owner.address),
            deadline,
          },
        ),
      );
    }

    it("stakeWithPermit stakes without a prior approve", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const dave = core.holders[4]!;
      const deadline = BigInt(await time.latest()) + 3600n;
      const sig = await permitSig(core, dave, 30n * ONE, deadline);
      await expect(
        core.stakeManager.connect(dave).stakeWithPermit(30n * ONE, deadline, sig.v, sig.r, sig.s),
      )
        .to.emit(core.stakeManager, "Staked")
        .withArgs(dave.address, 30n * ONE, 30n * ONE);
      expect(await core.stakeManager.bondedOf(dave.address)).to.equal(30n * ONE);
    });

    it("stakeWithPermit still stakes when someone else already submitted the permit", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const dave = core.holders[4]!;
      const deadline = BigInt(await time.latest()) + 3600n;
      const sig = await permitSig(core, dave, 30n * ONE, deadline);
      await (
        await core.token
          .connect(core.outsider)
          .permit(dave.address, core.smAddress, 30n * ONE, deadline, sig.v, sig.r, sig.s)
      ).wait();
      await (
        await core.stakeManager
          .connect(dave)
          .stakeWithPermit(30n * ONE, deadline, sig.v, sig.r, sig.s)
      ).wait();
      expect(await core.stakeManager.bondedOf(dave.address)).to.equal(30n * ONE);
    });

    it("stakeWithPermit reverts when the permit is invalid and there is no allowance", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const dave = core.holders[4]!;
      const deadline = BigInt(await time.latest()) + 3600n;
      const sig = await permitSig(core, dave, 30n * ONE, deadline);
      await expect(
        core.stakeManager.connect(dave).stakeWithPermit(31n * ONE, deadline, sig.v, sig.r, sig.s),
      )
        .to.be.revertedWithCustomError(core.token, "ERC20InsufficientAllowance")
        .withArgs(core.smAddress, 0n, 31n * ONE);
    });
  });

  describe("requestUnstake", function () {
    it("moves free bonded stake into the unbonding queue with releaseAt = now + unbondingPeriod", async function () {
      const { stakeManager, alice } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      const requestId = await stakeManager.connect(alice).requestUnstake.staticCall(40n * ONE);
      const tx = stakeManager.connect(alice).requestUnstake(40n * ONE);
      const ts = await blockTime(tx);
      await expect(tx)
        .to.emit(stakeManager, "UnstakeRequested")
        .withArgs(alice.address, requestId, 40n * ONE, ts + UNBONDING);
      expect(await stakeManager.bondedOf(alice.address)).to.equal(60n * ONE);
      expect(await stakeManager.unbondingOf(alice.address)).to.equal(40n * ONE);
      const entries = await stakeManager.unbondingEntries(alice.address);
      expect(entries.length).to.equal(1);
      expect(entries[0]!.id).to.equal(requestId);
      expect(entries[0]!.releaseAt).to.equal(ts + UNBONDING);
      expect(entries[0]!.amount).to.equal(40n * ONE);
    });

    it("gives each request a new id", async function () {
      const { stakeManager, alice, bob } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      await (await stakeManager.connect(bob).stake(10n * ONE)).wait();
      const id1 = await stakeManager.connect(alice).requestUnstake.staticCall(ONE);
      await (await stakeManager.connect(alice).requestUnstake(ONE)).wait();
      const id2 = await stakeManager.connect(bob).requestUnstake.staticCall(ONE);
      await (await stakeManager.connect(bob).requestUnstake(ONE)).wait();
      expect(id2).to.equal(id1 + 1n);
    });

    it("requestUnstake reverts when the stake is locked by a run", async function () {
      const { stakeManager, alice, runA } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 70n * ONE)).wait();
      await expect(stakeManager.connect(alice).requestUnstake(31n * ONE))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInsufficientFreeStake")
        .withArgs(alice.address, 30n * ONE, 31n * ONE);
      await (await stakeManager.connect(alice).requestUnstake(30n * ONE)).wait();
      await expect(stakeManager.connect(alice).requestUnstake(1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInsufficientFreeStake")
        .withArgs(alice.address, 0n, 1n);
    });

    it("requestUnstake reverts above the bonded stake and for zero", async function () {
      const { stakeManager, alice } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      await expect(stakeManager.connect(alice).requestUnstake(10n * ONE + 1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInsufficientFreeStake")
        .withArgs(alice.address, 10n * ONE, 10n * ONE + 1n);
      await expect(stakeManager.connect(alice).requestUnstake(0n)).to.be.revertedWithCustomError(
        stakeManager,
        "StakeManagerZeroAmount",
      );
    });

    it("requestUnstake reverts when the queue holds 16 entries, and accepts again after a withdraw", async function () {
      const { stakeManager, alice } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      for (let i = 0; i < MAX_ENTRIES; i++) {
        await (await stakeManager.connect(alice).requestUnstake(ONE)).wait();
      }
      expect(await stakeManager.MAX_UNBONDING_ENTRIES()).to.equal(BigInt(MAX_ENTRIES));
      await expect(stakeManager.connect(alice).requestUnstake(ONE))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnbondingQueueFull")
        .withArgs(alice.address, MAX_ENTRIES);
      await time.increase(UNBONDING);
      await (await stakeManager.connect(alice).withdraw()).wait();
      await (await stakeManager.connect(alice).requestUnstake(ONE)).wait();
      expect((await stakeManager.unbondingEntries(alice.address)).length).to.equal(1);
    });
  });

  describe("withdraw", function () {
    it("withdraw before maturity reverts with the release time and pays nothing", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, token, alice } = core;
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      const ts = await blockTime(stakeManager.connect(alice).requestUnstake(4n * ONE));
      await time.setNextBlockTimestamp(ts + UNBONDING - 1n);
      const balance = await token.balanceOf(alice.address);
      await expect(stakeManager.connect(alice).withdraw())
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerNothingToWithdraw")
        .withArgs(alice.address, ts + UNBONDING, ts + UNBONDING - 1n);
      expect(await token.balanceOf(alice.address)).to.equal(balance);
      expect(await stakeManager.withdrawableOf(alice.address)).to.equal(0n);
      expect(await stakeManager.unbondingOf(alice.address)).to.equal(4n * ONE);
    });

    it("withdraw with an empty queue reverts", async function () {
      const { stakeManager, alice } = await networkHelpers.loadFixture(fixture);
      await expect(stakeManager.connect(alice).withdraw()).to.be.revertedWithCustomError(
        stakeManager,
        "StakeManagerNothingToWithdraw",
      );
    });

    it("withdraw at maturity pays the entry and empties the queue", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, token, alice } = core;
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      const ts = await blockTime(stakeManager.connect(alice).requestUnstake(4n * ONE));
      await time.increaseTo(ts + UNBONDING - 1n); // the withdraw block lands exactly at releaseAt
      expect(
        await stakeManager.connect(alice).withdraw.staticCall({ blockTag: "pending" }),
      ).to.equal(4n * ONE);
      const balance = await token.balanceOf(alice.address);
      await expect(stakeManager.connect(alice).withdraw())
        .to.emit(stakeManager, "Withdrawn")
        .withArgs(alice.address, 4n * ONE, 1n);
      expect(await token.balanceOf(alice.address)).to.equal(balance + 4n * ONE);
      expect(await stakeManager.unbondingOf(alice.address)).to.equal(0n);
      expect(await stakeManager.bondedOf(alice.address)).to.equal(6n * ONE);
      expect((await stakeManager.unbondingEntries(alice.address)).length).to.equal(0);
      await expectConserved(core);
    });

    it("withdraw pays only the matured entries and keeps the rest in order", async function () {
      const { stakeManager, alice } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      await (await stakeManager.connect(alice).requestUnstake(1n * ONE)).wait();
      await (await stakeManager.connect(alice).requestUnstake(2n * ONE)).wait();
      await time.increase(DAY);
      await (await stakeManager.connect(alice).requestUnstake(3n * ONE)).wait();
      await (await stakeManager.connect(alice).requestUnstake(4n * ONE)).wait();
      await time.increase(UNBONDING - DAY);
      await expect(stakeManager.connect(alice).withdraw())
        .to.emit(stakeManager, "Withdrawn")
        .withArgs(alice.address, 3n * ONE, 2n);
      const left = await stakeManager.unbondingEntries(alice.address);
      expect(left.map((e) => e.amount)).to.deep.equal([3n * ONE, 4n * ONE]);
      expect(await stakeManager.unbondingOf(alice.address)).to.equal(7n * ONE);
    });

    it("after the unbonding period is shortened a newer entry can mature first", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, alice, admin } = core;
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      const scheduledAt = await blockTime(stakeManager.connect(admin).setUnbondingPeriod(DAY));
      const effectiveAt = scheduledAt + UNBONDING + DAY; // RULE_CHANGE_NOTICE = 1 day
      await time.setNextBlockTimestamp(effectiveAt - 1n);
      await (await stakeManager.connect(alice).requestUnstake(1n * ONE)).wait(); // 7 days
      await (await stakeManager.connect(alice).requestUnstake(2n * ONE)).wait(); // 1 day
      await time.increase(DAY);
      await expect(stakeManager.connect(alice).withdraw())
        .to.emit(stakeManager, "Withdrawn")
        .withArgs(alice.address, 2n * ONE, 1n);
      const left = await stakeManager.unbondingEntries(alice.address);
      expect(left.map((e) => e.amount)).to.deep.equal([1n * ONE]);
    });
  });

  describe("runs: registration, lock, unlock", function () {
    it("registerRun is only for the run factory (not governance) and emits RunRegistered", async function () {
      const { stakeManager, registrar, outsider, admin } =
        await networkHelpers.loadFixture(fixture);
      for (const caller of [outsider, admin]) {
        await expect(stakeManager.connect(caller).registerRun(outsider.address))
          .to.be.revertedWithCustomError(stakeManager, "StakeManagerNotRunFactory")
          .withArgs(caller.address, registrar.address);
      }
      await expect(stakeManager.connect(registrar).registerRun(outsider.address))
        .to.emit(stakeManager, "RunRegistered")
        .withArgs(outsider.address, registrar.address);
      expect(await stakeManager.isRun(outsider.address)).to.equal(true);
      expect(await stakeManager.runStatus(outsider.address)).to.equal(RunStatus.Registered);
    });

    it("setRunFactory is for the deployer only, once; governance can never name a factory", async function () {
      const core = await deployCore(connection);
      const { stakeManager, deployer, others } = core;
      const admin = await timelockSigner(core);
      expect(await stakeManager.runFactory()).to.equal(ethers.ZeroAddress);
      expect(await stakeManager.deployer()).to.equal(deployer.address);
      for (const caller of [admin, others[0]!]) {
        await expect(stakeManager.connect(caller).setRunFactory(caller.address))
          .to.be.revertedWithCustomError(stakeManager, "StakeManagerNotDeployer")
          .withArgs(caller.address, deployer.address);
      }
      await expect(
        stakeManager.connect(deployer).setRunFactory(ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(stakeManager, "StakeManagerZeroAddress");
      await expect(stakeManager.connect(deployer).setRunFactory(others[1]!.address))
        .to.emit(stakeManager, "RunFactorySet")
        .withArgs(others[1]!.address);
      await expect(stakeManager.connect(deployer).setRunFactory(deployer.address))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerRunFactoryAlreadySet")
        .withArgs(others[1]!.address);
      expect(await stakeManager.runFactory()).to.equal(others[1]!.address);
    });

    it("registerRun rejects address(0) and a run already registered", async function () {
      const { stakeManager, registrar, runA } = await networkHelpers.loadFixture(fixture);
      await expect(stakeManager.connect(registrar).registerRun(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInvalidRun")
        .withArgs(ethers.ZeroAddress);
      await expect(stakeManager.connect(registrar).registerRun(runA.address))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInvalidRun")
        .withArgs(runA.address);
    });

    it("only a registered run may lock, unlock or slash", async function () {
      const { stakeManager, alice, outsider } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      for (const call of [
        stakeManager.connect(outsider).lock(alice.address, ONE),
        stakeManager.connect(outsider).unlock(alice.address, ONE),
        stakeManager
          .connect(outsider)
          .slash(alice.address, ONE, Reason.InvalidUpdate, 1n, 1n, EVIDENCE),
        // the account itself cannot lock its own stake either
        stakeManager.connect(alice).lock(alice.address, ONE),
      ]) {
        await expect(call).to.be.revertedWithCustomError(stakeManager, "StakeManagerNotRun");
      }
      await expect(stakeManager.connect(outsider).lock(alice.address, ONE))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerNotRun")
        .withArgs(outsider.address);
    });

    it("lock takes free stake, per run, and emits Locked with the run's new lock", async function () {
      const { stakeManager, alice, runA, runB } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await expect(stakeManager.connect(runA).lock(alice.address, 30n * ONE))
        .to.emit(stakeManager, "Locked")
        .withArgs(runA.address, alice.address, 30n * ONE, 30n * ONE);
      await expect(stakeManager.connect(runA).lock(alice.address, 10n * ONE))
        .to.emit(stakeManager, "Locked")
        .withArgs(runA.address, alice.address, 10n * ONE, 40n * ONE);
      await (await stakeManager.connect(runB).lock(alice.address, 50n * ONE)).wait();
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(40n * ONE);
      expect(await stakeManager.lockedBy(runB.address, alice.address)).to.equal(50n * ONE);
      expect(await stakeManager.lockedOf(alice.address)).to.equal(90n * ONE);
      expect(await stakeManager.freeStakeOf(alice.address)).to.equal(10n * ONE);
      expect(await stakeManager.lockingRunsOf(alice.address)).to.deep.equal([
        runA.address,
        runB.address,
      ]);
    });

    it("lock reverts above the free stake and for zero", async function () {
      const { stakeManager, alice, runA, runB } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 80n * ONE)).wait();
      await expect(stakeManager.connect(runB).lock(alice.address, 21n * ONE))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInsufficientFreeStake")
        .withArgs(alice.address, 20n * ONE, 21n * ONE);
      await expect(
        stakeManager.connect(runB).lock(alice.address, 0n),
      ).to.be.revertedWithCustomError(stakeManager, "StakeManagerZeroAmount");
    });

    it("lock reverts when 8 runs already hold a lock on the account", async function () {
      const { stakeManager, registrar, alice, others, runA, runB, outsider } =
        await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      // others[0..3] are the registrar, runA, runB and the outsider; the outsider becomes a run here
      const extra = [outsider, ...others.slice(4)];
      for (const run of extra)
        await (await stakeManager.connect(registrar).registerRun(run.address)).wait();
      const runs = [runA, runB, ...extra];
      expect(runs.length).to.equal(8 + 1);
      for (const run of runs.slice(0, 8))
        await (await stakeManager.connect(run).lock(alice.address, ONE)).wait();
      await expect(stakeManager.connect(runs[8]!).lock(alice.address, ONE))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerTooManyRunLocks")
        .withArgs(alice.address, 8n);
      // a run that already locks may add to its lock; once one run unlocks fully a slot frees
      await (await stakeManager.connect(runs[0]!).lock(alice.address, ONE)).wait();
      await (await stakeManager.connect(runs[1]!).unlock(alice.address, ONE)).wait();
      await (await stakeManager.connect(runs[8]!).lock(alice.address, ONE)).wait();
      expect((await stakeManager.lockingRunsOf(alice.address)).length).to.equal(8);
    });

    it("unlock releases at most the run's own lock and never reverts on over-release", async function () {
      const { stakeManager, alice, runA, runB } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 30n * ONE)).wait();
      await (await stakeManager.connect(runB).lock(alice.address, 20n * ONE)).wait();
      await expect(stakeManager.connect(runA).unlock(alice.address, 10n * ONE))
        .to.emit(stakeManager, "Unlocked")
        .withArgs(runA.address, alice.address, 10n * ONE, 20n * ONE);
      await expect(stakeManager.connect(runA).unlock(alice.address, 1_000n * ONE))
        .to.emit(stakeManager, "Unlocked")
        .withArgs(runA.address, alice.address, 20n * ONE, 0n);
      await expect(stakeManager.connect(runA).unlock(alice.address, ONE)).not.to.emit(
        stakeManager,
        "Unlocked",
      );
      expect(await stakeManager.lockedOf(alice.address)).to.equal(20n * ONE);
      expect(await stakeManager.lockedBy(runB.address, alice.address)).to.equal(20n * ONE);
      expect(await stakeManager.lockingRunsOf(alice.address)).to.deep.equal([runB.address]);
    });
  });

  describe("slash", function () {
    it("takes the slashed amount out of the run's own lock into escrow and stores the record", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, token, alice, runA, smAddress } = core;
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 50n * ONE)).wait();
      const [id, amount] = await stakeManager
        .connect(runA)
        .slash.staticCall(alice.address, 10n * ONE, Reason.InvalidUpdate, 7n, 3n, EVIDENCE);
      expect([id, amount]).to.deep.equal([1n, 10n * ONE]);
      const tx = stakeManager
        .connect(runA)
        .slash(alice.address, 10n * ONE, Reason.InvalidUpdate, 7n, 3n, EVIDENCE);
      const ts = await blockTime(tx);
      await expect(tx)
        .to.emit(stakeManager, "Slashed")
        .withArgs(
          1n,
          alice.address,
          runA.address,
          7n,
          3n,
          Reason.InvalidUpdate,
          10n * ONE,
          EVIDENCE,
        );
      await expect(tx)
        .to.emit(stakeManager, "LockShrunk")
        .withArgs(runA.address, alice.address, 10n * ONE, 1n);
      expect(await stakeManager.bondedOf(alice.address)).to.equal(90n * ONE);
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(40n * ONE);
      expect(await stakeManager.freeStakeOf(alice.address)).to.equal(50n * ONE);
      expect(await stakeManager.totalEscrowed()).to.equal(10n * ONE);
      expect(await token.balanceOf(smAddress)).to.equal(100n * ONE);
      expect(await stakeManager.slashCount()).to.equal(1n);
      const r = await stakeManager.slashRecord(1n);
      expect([
        r.account,
        r.amount,
        r.run,
        r.createdAt,
        r.reason,
        r.status,
        r.runId,
        r.round,
        r.evidenceHash,
      ]).to.deep.equal([
        alice.address,
        10n * ONE,
        runA.address,
        ts,
        BigInt(Reason.InvalidUpdate),
        Status.Escrowed,
        7n,
        3n,
        EVIDENCE,
      ]);
      expect(await stakeManager.slashAppealDeadline(1n)).to.equal(ts + APPEAL);
      await expectConserved(core);
    });

    it("ATTACK: a run slashes stake it does not lock (free, unbonding, another run's lock) and gets nothing", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, alice, runA, runB } = core;
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await (await stakeManager.connect(runB).lock(alice.address, 30n * ONE)).wait();
      await (await stakeManager.connect(alice).requestUnstake(40n * ONE)).wait();
      // bonded 60 (30 locked by runB, 30 free), unbonding 40; runA locks nothing of alice
      const tx = stakeManager
        .connect(runA)
        .slash(alice.address, 100n * ONE, Reason.NoReveal, 1n, 2n, EVIDENCE);
      await expect(tx).not.to.emit(stakeManager, "Slashed");
      expect(await stakeManager.stakeOf(alice.address)).to.deep.equal([
        60n * ONE,
        40n * ONE,
        30n * ONE,
      ]);
      expect(await stakeManager.lockedBy(runB.address, alice.address)).to.equal(30n * ONE);
      expect(await stakeManager.slashCount()).to.equal(0n);
      await expectConserved(core);
    });

    it("ATTACK: a run with a small lock slashes again and again; it never takes more than the lock", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, alice, runA } = core;
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 10n * ONE)).wait();
      for (let i = 0; i < 5; i++) {
        await (
          await stakeManager
            .connect(runA)
            .slash(alice.address, 10n * ONE, Reason.InvalidUpdate, 1n, BigInt(i), EVIDENCE)
        ).wait();
      }
      expect(await stakeManager.bondedOf(alice.address)).to.equal(90n * ONE);
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(0n);
      expect(await stakeManager.totalEscrowed()).to.equal(10n * ONE);
      expect(await stakeManager.slashCount()).to.equal(1n);
      await expectConserved(core);
    });

    it("a node cannot leave ahead of its slash: locked stake cannot unbond, and what unbonds leaves whole", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, alice, runA } = core;
      await (await stakeManager.connect(alice).stake(50n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 20n * ONE)).wait();
      await expect(stakeManager.connect(alice).requestUnstake(50n * ONE))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInsufficientFreeStake")
        .withArgs(alice.address, 30n * ONE, 50n * ONE);
      await (await stakeManager.connect(alice).requestUnstake(30n * ONE)).wait();
      await time.increase(UNBONDING - 10n);
      await (
        await stakeManager
          .connect(runA)
          .slash(alice.address, 50n * ONE, Reason.NoReveal, 1n, 1n, EVIDENCE)
      ).wait();
      expect((await stakeManager.slashRecord(1n)).amount).to.equal(20n * ONE);
      await time.increase(10n);
      await expect(stakeManager.connect(alice).withdraw())
        .to.emit(stakeManager, "Withdrawn")
        .withArgs(alice.address, 30n * ONE, 1n);
      await expectConserved(core);
    });

    it("slash takes at most the run's lock when asked for more, and returns (0, 0) with no record when there is nothing", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, alice, bob, runA } = core;
      await (await stakeManager.connect(alice).stake(20n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 10n * ONE)).wait();
      const [id, slashed] = await stakeManager
        .connect(runA)
        .slash.staticCall(alice.address, 1_000n * ONE, Reason.InvalidUpdate, 1n, 1n, EVIDENCE);
      expect([id, slashed]).to.deep.equal([1n, 10n * ONE]);
      await (
        await stakeManager
          .connect(runA)
          .slash(alice.address, 1_000n * ONE, Reason.InvalidUpdate, 1n, 1n, EVIDENCE)
      ).wait();
      expect((await stakeManager.slashRecord(1n)).amount).to.equal(10n * ONE);
      const [id0, zero] = await stakeManager
        .connect(runA)
        .slash.staticCall(alice.address, ONE, Reason.InvalidUpdate, 1n, 1n, EVIDENCE);
      expect([id0, zero]).to.deep.equal([0n, 0n]);
      await expect(
        stakeManager.connect(runA).slash(bob.address, ONE, Reason.InvalidUpdate, 1n, 1n, EVIDENCE),
      ).not.to.emit(stakeManager, "Slashed");
      await expect(
        stakeManager.connect(runA).slash(alice.address, 0n, Reason.InvalidUpdate, 1n, 1n, EVIDENCE),
      ).not.to.emit(stakeManager, "Slashed");
      expect(await stakeManager.slashCount()).to.equal(1n);
      // the position stays open at 0 (a reversal can restore it) until the run unlocks it
      expect(await stakeManager.lockingRunsOf(alice.address)).to.deep.equal([runA.address]);
      await expect(stakeManager.connect(runA).unlock(alice.address, 10n * ONE))
        .to.emit(stakeManager, "Unlocked")
        .withArgs(runA.address, alice.address, 0n, 0n);
      expect(await stakeManager.lockingRunsOf(alice.address)).to.deep.equal([]);
      await expectConserved(core);
    });

    it("slash reverts for the reason None", async function () {
      const { stakeManager, alice, runA } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      await expect(
        stakeManager.connect(runA).slash(alice.address, ONE, Reason.None, 1n, 1n, EVIDENCE),
      )
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInvalidSlashReason")
        .withArgs(Reason.None);
    });

    it("a slash leaves the other runs' locks whole", async function () {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, alice, runA, runB } = core;
      await (await stakeManager.connect(alice).stake(90n * ONE)).wait();
      await (await stakeManager.connect(runA).lock(alice.address, 30n * ONE)).wait();
      await (await stakeManager.connect(runB).lock(alice.address, 60n * ONE)).wait();
      const tx = stakeManager
        .connect(runA)
        .slash(alice.address, 50n * ONE, Reason.InvalidUpdate, 1n, 1n, EVIDENCE);
      await expect(tx)
        .to.emit(stakeManager, "LockShrunk")
        .withArgs(runA.address, alice.address, 30n * ONE, 1n);
      expect(await stakeManager.bondedOf(alice.address)).to.equal(60n * ONE);
      expect(await stakeManager.lockedOf(alice.address)).to.equal(60n * ONE);
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(0n);
      expect(await stakeManager.lockedBy(runB.address, alice.address)).to.equal(60n * ONE);
      // the run that slashed can still call unlock as it always does (over-release is fine)
      await expect(stakeManager.connect(runA).unlock(alice.address, 30n * ONE)).not.to.revert(
        ethers,
      );
      expect(await stakeManager.lockingRunsOf(alice.address)).to.deep.equal([runB.address]);
    });
  });

  describe("reverseSlash", function () {
    async function slashed() {
      const core = await networkHelpers.loadFixture(fixture);
      await (await core.stakeManager.connect(core.alice).stake(100n * ONE)).wait();
      await (await core.stakeManager.connect(core.runA).lock(core.alice.address, 50n * ONE)).wait();
      const ts = await blockTime(
        core.stakeManager
          .connect(core.runA)
          .slash(core.alice.address, 25n * ONE, Reason.InvalidUpdate, 1n, 4n, EVIDENCE),
      );
      return { ...core, slashedAt: ts };
    }

    it("inside the appeal window returns the amount to the account's bonded stake and the run's lock (G5)", async function () {
      const core = await slashed();
      const { stakeManager, admin, alice, runA } = core;
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(25n * ONE);
      await time.increaseTo(core.slashedAt + APPEAL - 2n); // reverse lands one second before the deadline
      const tx = stakeManager.connect(admin).reverseSlash(1n);
      await expect(tx).to.emit(stakeManager, "SlashReversed").withArgs(1n, alice.address, 25n * ONE);
      await expect(tx)
        .to.emit(stakeManager, "LockRestored")
        .withArgs(runA.address, alice.address, 25n * ONE, 1n);
      expect(await stakeManager.bondedOf(alice.address)).to.equal(100n * ONE);
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(50n * ONE);
      expect(await stakeManager.lockedOf(alice.address)).to.equal(50n * ONE);
      expect(await stakeManager.totalEscrowed()).to.equal(0n);
      expect((await stakeManager.slashRecord(1n)).status).to.equal(Status.Reversed);
      await expectConserved(core);
    });

    it("G5: a slash that took the whole lock is restored too (the position stayed open)", async function () {
      const core = await slashed();
      const { stakeManager, admin, alice, runA } = core;
      await (
        await stakeManager
          .connect(runA)
          .slash(alice.address, 25n * ONE, Reason.NoReveal, 1n, 5n, EVIDENCE)
      ).wait();
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(0n);
      await (await stakeManager.connect(admin).reverseSlash(2n)).wait();
      await (await stakeManager.connect(admin).reverseSlash(1n)).wait();
      expect(await stakeManager.lockedBy(runA.address, alice.address)).to.equal(50n * ONE);
      expect(await stakeManager.stakeOf(alice.address)).to.deep.equal([100n * ONE, 0n, 50n * ONE]);
      await expectConserved(core);
    });

    it("a reversal after the run released the account (the node left) returns free stake, not a dead lock", async function () {
      const core = await slashed();
      const { stakeManager, admin, alice, runA } = core;
      await (await stakeManager.connect(runA).unlock(alice.address, 25n * ONE)).wait();
      await expect(stakeManager.connect(admin).reverseSlash(1n)).not.to.emit(
        stakeManager,
        "LockRestored",
      );
      expect(await stakeManager.stakeOf(alice.address)).to.deep.equal([100n * ONE, 0n, 0n]);
      expect(await stakeManager.freeStakeOf(alice.address)).to.equal(100n * ONE);
      await expectConserved(core);
    });

    it("reverseSlash reverts once the appeal window has closed", async function () {
      const { stakeManager, admin, slashedAt } = await slashed();
      await time.setNextBlockTimestamp(slashedAt + APPEAL);
      await expect(stakeManager.connect(admin).reverseSlash(1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerAppealWindowClosed")
        .withArgs(1n, slashedAt + APPEAL, slashedAt + APPEAL);
    });

    it("reverseSlash is only for DEFAULT_ADMIN_ROLE, not for the run or the account", async function () {
      const { stakeManager, alice, runA } = await slashed();
      for (const caller of [alice, runA]) {
        await expect(stakeManager.connect(caller).reverseSlash(1n))
          .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, await stakeManager.DEFAULT_ADMIN_ROLE());
      }
    });

    it("reverseSlash reverts for a slash already reversed and for an unknown id", async function () {
      const { stakeManager, admin } = await slashed();
      await (await stakeManager.connect(admin).reverseSlash(1n)).wait();
      await expect(stakeManager.connect(admin).reverseSlash(1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnexpectedSlashStatus")
        .withArgs(1n, Status.Reversed, Status.Escrowed);
      await expect(stakeManager.connect(admin).reverseSlash(99n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnexpectedSlashStatus")
        .withArgs(99n, Status.None, Status.Escrowed);
    });

    it("changing the appeal window does not move the deadline of an escrowed slash", async function () {
      const { stakeManager, admin, slashedAt } = await slashed();
      await (await stakeManager.connect(admin).setAppealWindow(30n * DAY)).wait();
      expect(await stakeManager.slashAppealDeadline(1n)).to.equal(slashedAt + APPEAL);
      await time.increaseTo(slashedAt + APPEAL);
      await expect(stakeManager.connect(admin).reverseSlash(1n)).to.be.revertedWithCustomError(
        stakeManager,
        "StakeManagerAppealWindowClosed",
      );
    });
  });

  describe("resolveSlash", function () {
    async function slashedWith(f: typeof fixture) {
      const core = await networkHelpers.loadFixture(f);
      await (await core.stakeManager.connect(core.alice).stake(100n * ONE)).wait();
      await (await core.stakeManager.connect(core.runA).lock(core.alice.address, 50n * ONE)).wait();
      const ts = await blockTime(
        core.stakeManager
          .connect(core.runA)
          .slash(core.alice.address, 25n * ONE, Reason.InvalidUpdate, 1n, 4n, EVIDENCE),
      );
      return { ...core, slashedAt: ts };
    }

    it("resolveSlash reverts while the appeal window is open", async function () {
      const { stakeManager, outsider, slashedAt } = await slashedWith(fixture);
      await time.setNextBlockTimestamp(slashedAt + APPEAL - 1n);
      await expect(stakeManager.connect(outsider).resolveSlash(1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerAppealWindowOpen")
        .withArgs(1n, slashedAt + APPEAL, slashedAt + APPEAL - 1n);
    });

    it("after the window anyone resolves it and the treasury is paid", async function () {
      const core = await slashedWith(fixture);
      const { stakeManager, token, outsider, slashedAt, alice, treasury, smAddress } = core;
      await time.setNextBlockTimestamp(slashedAt + APPEAL);
      const supply = await token.totalSupply();
      await expect(stakeManager.connect(outsider).resolveSlash(1n))
        .to.emit(stakeManager, "SlashResolved")
        .withArgs(1n, alice.address, 25n * ONE, treasury, false);
      expect(await token.balanceOf(treasury)).to.equal(25n * ONE);
      expect(await token.balanceOf(smAddress)).to.equal(75n * ONE);
      expect(await token.totalSupply()).to.equal(supply);
      expect((await stakeManager.slashRecord(1n)).status).to.equal(Status.Resolved);
      expect(await stakeManager.totalEscrowed()).to.equal(0n);
      await expectConserved(core);
    });

    it("with no treasury resolveSlash burns the amount and the total supply drops", async function () {
      const core = await slashedWith(burnFixture);
      const { stakeManager, token, outsider, slashedAt, alice } = core;
      expect(await stakeManager.treasury()).to.equal(ethers.ZeroAddress);
      await time.increaseTo(slashedAt + APPEAL);
      const supply = await token.totalSupply();
      await expect(stakeManager.connect(outsider).resolveSlash(1n))
        .to.emit(stakeManager, "SlashResolved")
        .withArgs(1n, alice.address, 25n * ONE, ethers.ZeroAddress, true);
      expect(await token.totalSupply()).to.equal(supply - 25n * ONE);
      await expectConserved(core);
    });

    it("a resolved slash can neither be resolved again nor reversed", async function () {
      const { stakeManager, outsider, admin, slashedAt } = await slashedWith(fixture);
      await time.increaseTo(slashedAt + APPEAL);
      await (await stakeManager.connect(outsider).resolveSlash(1n)).wait();
      await expect(stakeManager.connect(outsider).resolveSlash(1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnexpectedSlashStatus")
        .withArgs(1n, Status.Resolved, Status.Escrowed);
      await expect(stakeManager.connect(admin).reverseSlash(1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnexpectedSlashStatus")
        .withArgs(1n, Status.Resolved, Status.Escrowed);
    });

    it("a reversed slash cannot be resolved", async function () {
      const { stakeManager, outsider, admin, slashedAt } = await slashedWith(fixture);
      await (await stakeManager.connect(admin).reverseSlash(1n)).wait();
      await time.increaseTo(slashedAt + APPEAL);
      await expect(stakeManager.connect(outsider).resolveSlash(1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnexpectedSlashStatus")
        .withArgs(1n, Status.Reversed, Status.Escrowed);
    });
  });

  describe("settings", function () {
    it("setUnbondingPeriod rejects values outside the bounds and schedules one inside them after the unbonding period and a day", async function () {
      const { stakeManager, admin } = await networkHelpers.loadFixture(fixture);
      const [min, max] = [
        await stakeManager.MIN_UNBONDING_PERIOD(),
        await stakeManager.MAX_UNBONDING_PERIOD(),
      ];
      expect([min, max]).to.deep.equal([60n, 365n * DAY]);
      expect(await stakeManager.RULE_CHANGE_NOTICE()).to.equal(DAY);
      await expect(stakeManager.connect(admin).setUnbondingPeriod(min - 1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnbondingPeriodOutOfBounds")
        .withArgs(min - 1n, min, max);
      await expect(stakeManager.connect(admin).setUnbondingPeriod(max + 1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerUnbondingPeriodOutOfBounds")
        .withArgs(max + 1n, min, max);
      const tx = stakeManager.connect(admin).setUnbondingPeriod(min);
      const at = (await blockTime(tx)) + UNBONDING + DAY;
      await expect(tx)
        .to.emit(stakeManager, "UnbondingPeriodScheduled")
        .withArgs(UNBONDING, min, at);
      expect(await stakeManager.unbondingPeriod()).to.equal(UNBONDING);
      expect(await stakeManager.pendingUnbondingPeriod()).to.deep.equal([min, at]);
      await time.setNextBlockTimestamp(at - 1n);
      await expect(stakeManager.applyStakeRules()).not.to.emit(stakeManager, "UnbondingPeriodSet");
      await time.setNextBlockTimestamp(at);
      await expect(stakeManager.applyStakeRules())
        .to.emit(stakeManager, "UnbondingPeriodSet")
        .withArgs(UNBONDING, min);
      expect(await stakeManager.unbondingPeriod()).to.equal(min);
      expect(await stakeManager.pendingUnbondingPeriod()).to.deep.equal([0n, 0n]);
      // a longer period waits the current (short) one plus the notice; while it waits, the
      // next change waits the longer of the two
      const t2 = await blockTime(stakeManager.connect(admin).setUnbondingPeriod(max));
      expect(await stakeManager.pendingUnbondingPeriod()).to.deep.equal([max, t2 + min + DAY]);
      const tx3 = stakeManager.connect(admin).setAppealWindow(DAY);
      const t3 = await blockTime(tx3);
      await expect(tx3)
        .to.emit(stakeManager, "AppealWindowScheduled")
        .withArgs(APPEAL, DAY, t3 + max + DAY);
    });

    it("setAppealWindow rejects values outside the bounds and schedules one inside them; the view shows it once due", async function () {
      const { stakeManager, admin } = await networkHelpers.loadFixture(fixture);
      const [min, max] = [
        await stakeManager.MIN_APPEAL_WINDOW(),
        await stakeManager.MAX_APPEAL_WINDOW(),
      ];
      expect([min, max]).to.deep.equal([60n, 365n * DAY]);
      await expect(stakeManager.connect(admin).setAppealWindow(min - 1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerAppealWindowOutOfBounds")
        .withArgs(min - 1n, min, max);
      await expect(stakeManager.connect(admin).setAppealWindow(max + 1n))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerAppealWindowOutOfBounds")
        .withArgs(max + 1n, min, max);
      const tx = stakeManager.connect(admin).setAppealWindow(min);
      const at = (await blockTime(tx)) + UNBONDING + DAY;
      await expect(tx).to.emit(stakeManager, "AppealWindowScheduled").withArgs(APPEAL, min, at);
      expect(await stakeManager.pendingAppealWindow()).to.deep.equal([min, at]);
      // a second schedule replaces the first
      const tx2 = stakeManager.connect(admin).setAppealWindow(max);
      const at2 = (await blockTime(tx2)) + UNBONDING + DAY;
      expect(await stakeManager.pendingAppealWindow()).to.deep.equal([max, at2]);
      await time.increaseTo(at2);
      expect(await stakeManager.appealWindow()).to.equal(max);
      expect(await stakeManager.pendingAppealWindow()).to.deep.equal([0n, 0n]);
      await expect(stakeManager.applyStakeRules())
        .to.emit(stakeManager, "AppealWindowSet")
        .withArgs(APPEAL, max);
    });

    it("setTreasury accepts address(0) (burn), rejects the StakeManager itself and emits TreasurySet(old, new)", async function () {
      const { stakeManager, admin, treasury, outsider, smAddress } =
        await networkHelpers.loadFixture(fixture);
      await expect(stakeManager.connect(admin).setTreasury(outsider.address))
        .to.emit(stakeManager, "TreasurySet")
        .withArgs(treasury, outsider.address);
      await expect(stakeManager.connect(admin).setTreasury(ethers.ZeroAddress))
        .to.emit(stakeManager, "TreasurySet")
        .withArgs(outsider.address, ethers.ZeroAddress);
      await expect(stakeManager.connect(admin).setTreasury(smAddress))
        .to.be.revertedWithCustomError(stakeManager, "StakeManagerInvalidTreasury")
        .withArgs(smAddress);
    });

    it("every setter is only for DEFAULT_ADMIN_ROLE", async function () {
      const { stakeManager, outsider, registrar } = await networkHelpers.loadFixture(fixture);
      const adminRole = await stakeManager.DEFAULT_ADMIN_ROLE();
      for (const caller of [outsider, registrar]) {
        const sm = stakeManager.connect(caller);
        for (const call of [
          sm.setUnbondingPeriod(DAY),
          sm.setAppealWindow(DAY),
          sm.setTreasury(caller.address),
        ]) {
          await expect(call)
            .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, adminRole);
        }
      }
    });

    it("a new unbonding period applies to new requests only, once its time has come", async function () {
      const { stakeManager, admin, alice } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      const scheduledAt = await blockTime(stakeManager.connect(admin).setUnbondingPeriod(30n * DAY));
      const t1 = await blockTime(stakeManager.connect(alice).requestUnstake(ONE));
      await time.setNextBlockTimestamp(scheduledAt + UNBONDING + DAY);
      const tx = stakeManager.connect(alice).requestUnstake(ONE);
      await expect(tx).to.emit(stakeManager, "UnbondingPeriodSet").withArgs(UNBONDING, 30n * DAY);
      const t2 = await blockTime(tx);
      const entries = await stakeManager.unbondingEntries(alice.address);
      expect(entries.map((e) => e.releaseAt)).to.deep.equal([t1 + UNBONDING, t2 + 30n * DAY]);
    });

    it("G4: a staker who starts to unbond when a shorter appeal window is scheduled is paid out before it applies", async function () {
      const { stakeManager, admin, alice } = await networkHelpers.loadFixture(fixture);
      await (await stakeManager.connect(alice).stake(10n * ONE)).wait();
      const scheduledAt = await blockTime(stakeManager.connect(admin).setAppealWindow(60n));
      const [, effectiveAt] = await stakeManager.pendingAppealWindow();
      // alice reacts as late as the notice allows: a day after the schedule
      await time.setNextBlockTimestamp(scheduledAt + DAY - 1n);
      const [releaseAt] = [
        (await blockTime(stakeManager.connect(alice).requestUnstake(10n * ONE))) + UNBONDING,
      ];
      expect(releaseAt).to.be.lessThan(effectiveAt);
      await time.setNextBlockTimestamp(releaseAt);
      await expect(stakeManager.connect(alice).withdraw())
        .to.emit(stakeManager, "Withdrawn")
        .withArgs(alice.address, 10n * ONE, 1n);
      expect(await stakeManager.appealWindow()).to.equal(APPEAL); // still the old rule
    });
  });
});
