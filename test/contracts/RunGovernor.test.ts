import { expect } from "chai";
import { network } from "hardhat";
import { deployCore, ONE, passProposal } from "./helpers/deployCore.js";
import { ProposalState, VoteType } from "./helpers/passProposal.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const DAY = 24n * 3600n;
const fixture = () => deployCore(connection);

describe("RunGovernor + RunTimelock", function () {
  describe("configuration", function () {
    it("uses the token's block-number clock and the deployed settings", async function () {
      const { governor, token, timelock, options } = await networkHelpers.loadFixture(fixture);
      expect(await governor.name()).to.equal("RunGovernor");
      expect(await governor.token()).to.equal(await token.getAddress());
      expect(await governor.timelock()).to.equal(await timelock.getAddress());
      expect(await governor.CLOCK_MODE()).to.equal("mode=blocknumber&from=default");
      expect(await governor.votingDelay()).to.equal(options.votingDelay);
      expect(await governor.votingPeriod()).to.equal(options.votingPeriod);
      expect(await governor.proposalThreshold()).to.equal(options.proposalThreshold);
      expect(await governor["quorumNumerator()"]()).to.equal(options.quorumPercent);
      expect(await timelock.getMinDelay()).to.equal(options.timelockDelay);
    });

    it("the governor is the timelock's only proposer and canceller, anyone executes, and the timelock administers itself", async function () {
      const { governor, timelock, deployer, holders } = await networkHelpers.loadFixture(fixture);
      const g = await governor.getAddress();
      expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), g)).to.equal(true);
      expect(await timelock.hasRole(await timelock.CANCELLER_ROLE(), g)).to.equal(true);
      expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), ethers.ZeroAddress)).to.equal(
        true,
      );
      expect(
        await timelock.hasRole(await timelock.DEFAULT_ADMIN_ROLE(), deployer.address),
      ).to.equal(false);
      // the timelock administers itself
      expect(
        await timelock.hasRole(await timelock.DEFAULT_ADMIN_ROLE(), await timelock.getAddress()),
      ).to.equal(true);
      await expect(
        timelock
          .connect(holders[1]!)
          .schedule(g, 0n, "0x", ethers.ZeroHash, ethers.ZeroHash, DAY * 2n),
      ).to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount");
    });

    it("the StakeManager's settings can only be changed by the timelock, not by the governor or a holder", async function () {
      const { stakeManager, holders, governor } = await networkHelpers.loadFixture(fixture);
      const adminRole = await stakeManager.DEFAULT_ADMIN_ROLE();
      await expect(stakeManager.connect(holders[1]!).setUnbondingPeriod(DAY))
        .to.be.revertedWithCustomError(stakeManager, "AccessControlUnauthorizedAccount")
        .withArgs(holders[1]!.address, adminRole);
      expect(await stakeManager.hasRole(adminRole, await governor.getAddress())).to.equal(false);
    });
  });

  describe("proposals", function () {
    it("propose reverts for an account under the proposal threshold", async function () {
      const { governor, stakeManager, others, options } = await networkHelpers.loadFixture(fixture);
      const outsider = others[0]!;
      const call = stakeManager.interface.encodeFunctionData("setUnbondingPeriod", [DAY]);
      await expect(
        governor
          .connect(outsider)
          .propose([await stakeManager.getAddress()], [0n], [call], "too poor"),
      )
        .to.be.revertedWithCustomError(governor, "GovernorInsufficientProposerVotes")
        .withArgs(outsider.address, 0n, options.proposalThreshold);
    });

    it("tokens vote only once delegated: undelegated holders cannot reach quorum", async function () {
      const { governor, stakeManager, token, holders, others } =
        await networkHelpers.loadFixture(fixture);
      // a holder moves its tokens to an account that never delegates
      const idle = others[0]!;
      await (await token.connect(holders[2]!).transfer(idle.address, 1_000_000n * ONE)).wait();
      const call = stakeManager.interface.encodeFunctionData("setUnbondingPeriod", [DAY]);
      const target = await stakeManager.getAddress();
      await (
        await governor.connect(holders[1]!).propose([target], [0n], [call], "idle tokens")
      ).wait();
      const id = await governor.hashProposal([target], [0n], [call], ethers.id("idle tokens"));
      await networkHelpers.mine(2);
      await expect(governor.connect(idle).castVote(id, VoteType.For))
        .to.emit(governor, "VoteCast")
        .withArgs(idle.address, id, VoteType.For, 0n, "");
      await networkHelpers.mine(60);
      expect(await governor.state(id)).to.equal(ProposalState.Defeated);
      const [, forVotes] = await governor.proposalVotes(id);
      expect(forVotes).to.equal(0n);
    });

    it("a proposal with more votes against than for is defeated and cannot be queued", async function () {
      const { governor, stakeManager, holders } = await networkHelpers.loadFixture(fixture);
      const call = stakeManager.interface.encodeFunctionData("setUnbondingPeriod", [DAY]);
      const target = await stakeManager.getAddress();
      await (
        await governor.connect(holders[1]!).propose([target], [0n], [call], "contested")
      ).wait();
      const id = await governor.hashProposal([target], [0n], [call], ethers.id("contested"));
      await networkHelpers.mine(2);
      await (await governor.connect(holders[1]!).castVote(id, VoteType.For)).wait();
      await (await governor.connect(holders[2]!).castVote(id, VoteType.Against)).wait();
      await (await governor.connect(holders[3]!).castVote(id, VoteType.Against)).wait();
      await networkHelpers.mine(60);
      expect(await governor.state(id)).to.equal(ProposalState.Defeated);
      await expect(
        governor.queue([target], [0n], [call], ethers.id("contested")),
      ).to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState");
    });
  });

  describe("end to end through the timelock", function () {
    it("propose -> vote -> queue -> execute schedules the StakeManager's unbonding period, which applies after the old period and a day", async function () {
      const { governor, stakeManager, holders, timelock } =
        await networkHelpers.loadFixture(fixture);
      const target = await stakeManager.getAddress();
      const call = stakeManager.interface.encodeFunctionData("setUnbondingPeriod", [14n * DAY]);
      const description = "Set the unbonding period to 14 days";
      const descriptionHash = ethers.id(description);
      const id = await governor.hashProposal([target], [0n], [call], descriptionHash);

      await expect(
        governor.connect(holders[1]!).propose([target], [0n], [call], description),
      ).to.emit(governor, "ProposalCreated");
      expect(await governor.state(id)).to.equal(ProposalState.Pending);
      await networkHelpers.mine(2);
      expect(await governor.state(id)).to.equal(ProposalState.Active);
      for (const voter of holders.slice(1, 4))
        await (await governor.connect(voter).castVote(id, VoteType.For)).wait();
      await networkHelpers.mine(50);
      expect(await governor.state(id)).to.equal(ProposalState.Succeeded);

      await expect(governor.queue([target], [0n], [call], descriptionHash)).to.emit(
        governor,
        "ProposalQueued",
      );
      expect(await governor.state(id)).to.equal(ProposalState.Queued);
      // the timelock delay has not passed: execution is refused
      await expect(
        governor.execute([target], [0n], [call], descriptionHash),
      ).to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState");
      await time.increase(await timelock.getMinDelay());
      const execute = governor.execute([target], [0n], [call], descriptionHash);
      await expect(execute).to.emit(stakeManager, "UnbondingPeriodScheduled");
      expect(await governor.state(id)).to.equal(ProposalState.Executed);
      const executedAt = BigInt(await time.latest());
      expect(await stakeManager.unbondingPeriod()).to.equal(7n * DAY);
      expect(await stakeManager.pendingUnbondingPeriod()).to.deep.equal([
        14n * DAY,
        executedAt + 8n * DAY,
      ]);
      await time.increaseTo(executedAt + 8n * DAY);
      await expect(stakeManager.applyStakeRules())
        .to.emit(stakeManager, "UnbondingPeriodSet")
        .withArgs(7n * DAY, 14n * DAY);
      expect(await stakeManager.unbondingPeriod()).to.equal(14n * DAY);
    });

    it("a proposal moves treasury funds: the timelock transfers tokens it holds", async function () {
      const { governor, token, timelock, holders, others } =
        await networkHelpers.loadFixture(fixture);
      const treasury = await timelock.getAddress();
      await (await token.connect(holders[5]!).transfer(treasury, 500n * ONE)).wait();
      const grantee = others[0]!.address;
      const call = token.interface.encodeFunctionData("transfer", [grantee, 120n * ONE]);
      const { executeReceipt } = await passProposal(
        governor.connect(holders[1]!),
        [await token.getAddress()],
        [0n],
        [call],
        "Grant 120 LEARN to a contributor",
      );
      await expect(executeReceipt.hash)
        .to.emit(token, "Transfer")
        .withArgs(treasury, grantee, 120n * ONE);
      expect(await token.balanceOf(grantee)).to.equal(120n * ONE);
      expect(await token.balanceOf(treasury)).to.equal(380n * ONE);
    });

    it("a proposal grants MINTER_ROLE (the emitter role) and another revokes it", async function () {
      const { governor, token, holders, others } = await networkHelpers.loadFixture(fixture);
      const minter = others[0]!;
      const role = await token.MINTER_ROLE();
      const t = await token.getAddress();
      const g = governor.connect(holders[1]!);
      await passProposal(
        g,
        [t],
        [0n],
        [token.interface.encodeFunctionData("grantRole", [role, minter.address])],
        "grant minter",
      );
      await (await token.connect(minter).mint(minter.address, ONE)).wait();
      await passProposal(
        g,
        [t],
        [0n],
        [token.interface.encodeFunctionData("revokeRole", [role, minter.address])],
        "revoke minter",
      );
      await expect(token.connect(minter).mint(minter.address, ONE)).to.be.revertedWithCustomError(
        token,
        "AccessControlUnauthorizedAccount",
      );
    });

    async function slashedByRun() {
      const core = await networkHelpers.loadFixture(fixture);
      const { stakeManager, token, holders, others, deployer } = core;
      const [registrar, run] = [others[0]!, others[1]!];
      const sm = await stakeManager.getAddress();
      // the deployer names the "factory", as the deployment does
      await (await stakeManager.connect(deployer).setRunFactory(registrar.address)).wait();
      await (await stakeManager.connect(registrar).registerRun(run.address)).wait();
      const alice = holders[2]!;
      await (await token.connect(alice).approve(sm, 100n * ONE)).wait();
      await (await stakeManager.connect(alice).stake(100n * ONE)).wait();
      await (await stakeManager.connect(run).lock(alice.address, 50n * ONE)).wait();
      await (
        await stakeManager
          .connect(run)
          .slash(alice.address, 40n * ONE, 1, 1n, 9n, ethers.id("bad update"))
      ).wait();
      return { ...core, alice, run };
    }

    it("a slash is reversed through governance inside its appeal window", async function () {
      const { governor, stakeManager, holders, alice } = await slashedByRun();
      expect(await stakeManager.bondedOf(alice.address)).to.equal(60n * ONE);
      const { executeReceipt } = await passProposal(
        governor.connect(holders[1]!),
        [await stakeManager.getAddress()],
        [0n],
        [stakeManager.interface.encodeFunctionData("reverseSlash", [1n])],
        "Appeal: slash 1 was a validator bug",
      );
      await expect(executeReceipt.hash)
        .to.emit(stakeManager, "SlashReversed")
        .withArgs(1n, alice.address, 40n * ONE);
      expect(await stakeManager.bondedOf(alice.address)).to.equal(100n * ONE);
      expect(await stakeManager.lockedOf(alice.address)).to.equal(50n * ONE);
      expect((await stakeManager.slashRecord(1n)).status).to.equal(2n);
    });

    it("a reversal executed after the appeal window closed fails and the slash stays escrowed", async function () {
      const { governor, stakeManager, holders } = await slashedByRun();
      const target = await stakeManager.getAddress();
      const call = stakeManager.interface.encodeFunctionData("reverseSlash", [1n]);
      const description = "Late appeal";
      const g = governor.connect(holders[1]!);
      await (await g.propose([target], [0n], [call], description)).wait();
      const id = await governor.hashProposal([target], [0n], [call], ethers.id(description));
      await networkHelpers.mine(2);
      await (await governor.connect(holders[1]!).castVote(id, VoteType.For)).wait();
      await networkHelpers.mine(50);
      await (await governor.queue([target], [0n], [call], ethers.id(description))).wait();
      const deadline = await stakeManager.slashAppealDeadline(1n);
      await time.increaseTo(deadline + 1n);
      // the timelock delay is over too: only the appeal window stands in the way
      expect(await governor.proposalEta(id)).to.be.lessThanOrEqual(BigInt(await time.latest()));
      await expect(
        governor.execute([target], [0n], [call], ethers.id(description)),
      ).to.be.revertedWithCustomError(stakeManager, "StakeManagerAppealWindowClosed");
      expect((await stakeManager.slashRecord(1n)).status).to.equal(1n);
    });
  });
});
