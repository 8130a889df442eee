import { expect } from "chai";
import { network } from "hardhat";
import { ONE, deployCore, stakeFor } from "./helpers/deployCore.js";
import { AGREED_HASH, deployRun, playRound, send, timeTo } from "./helpers/deployRun.js";

/**
 * Issue 10, G2: staked tokens vote. The StakeManager is a Votes contract (voting units = the
 * tokens it holds for an account: bonded, locked included, unbonding not yet withdrawn, and
 * slashes still in escrow)
 * and the RunGovernor counts token votes plus stake votes.
 */
const connection = await network.create();
const { networkHelpers } = connection;

const coreFixture = () => deployCore(connection);
const runFixture = () =>
  deployRun(connection, { trainers: 2, validators: 3, trainerStake: 100n * ONE });

const VOTE_FOR = 1;

async function openProposal(core: Awaited<ReturnType<typeof coreFixture>>, description: string) {
  const governor = core.governor.connect(core.holders[1]!);
  const target = await core.timelock.getAddress();
  const calldata = core.timelock.interface.encodeFunctionData("getMinDelay");
  await send(governor.propose([target], [0n], [calldata], description));
  const proposalId = await governor.hashProposal([target], [0n], [calldata], ethersId(description));
  await networkHelpers.mine(Number(core.options.votingDelay) + 1);
  return proposalId;
}

function ethersId(text: string): string {
  return connection.ethers.id(text);
}

describe("Stake votes (issue 10, G2)", function () {
  it("ATTACK: a staker whose tokens are all staked votes with weight = its stake (before: 0)", async function () {
    const core = await networkHelpers.loadFixture(coreFixture);
    const staker = core.holders[2]!;
    const all = await core.token.balanceOf(staker.address);
    await stakeFor(core, [staker], all);
    expect(await core.token.getVotes(staker.address)).to.equal(0n);
    expect(await core.stakeManager.getVotes(staker.address)).to.equal(all);
    expect(await core.stakeManager.delegates(staker.address)).to.equal(staker.address);
    const proposalId = await openProposal(core, "stakers vote");
    await expect(core.governor.connect(staker).castVote(proposalId, VOTE_FOR))
      .to.emit(core.governor, "VoteCast")
      .withArgs(staker.address, proposalId, VOTE_FOR, all, "");
    const [, forVotes] = await core.governor.proposalVotes(proposalId);
    expect(forVotes).to.equal(all);
  });

  it("a staker delegates its stake votes to another account", async function () {
    const core = await networkHelpers.loadFixture(coreFixture);
    const sm = core.stakeManager;
    const staker = core.holders[2]!;
    const other = core.others[0]!;
    await stakeFor(core, [staker], 500n * ONE);
    await expect(sm.connect(staker).delegate(other.address))
      .to.emit(sm, "DelegateChanged")
      .withArgs(staker.address, staker.address, other.address)
      .and.to.emit(sm, "DelegateVotesChanged")
      .withArgs(other.address, 0n, 500n * ONE);
    expect(await sm.getVotes(staker.address)).to.equal(0n);
    expect(await sm.getVotes(other.address)).to.equal(500n * ONE);
    // a later stake keeps the chosen delegate
    await stakeFor(core, [staker], 100n * ONE);
    expect(await sm.getVotes(other.address)).to.equal(600n * ONE);
    const proposalId = await openProposal(core, "delegated stake votes");
    await expect(core.governor.connect(other).castVote(proposalId, VOTE_FOR))
      .to.emit(core.governor, "VoteCast")
      .withArgs(other.address, proposalId, VOTE_FOR, 600n * ONE, "");
  });

  it("stake votes use past checkpoints: staking after the snapshot adds nothing to an open proposal", async function () {
    const core = await networkHelpers.loadFixture(coreFixture);
    const staker = core.holders[2]!;
    const outsider = core.others[0]!;
    await send(core.token.connect(staker).transfer(outsider.address, 300n * ONE));
    const proposalId = await openProposal(core, "late stake");
    await stakeFor(core, [outsider], 300n * ONE);
    expect(await core.stakeManager.getVotes(outsider.address)).to.equal(300n * ONE);
    await expect(core.governor.connect(outsider).castVote(proposalId, VOTE_FOR))
      .to.emit(core.governor, "VoteCast")
      .withArgs(outsider.address, proposalId, VOTE_FOR, 0n, "");
  });

  it("unbonding stake votes until it is withdrawn", async function () {
    const core = await networkHelpers.loadFixture(coreFixture);
    const sm = core.stakeManager;
    const staker = core.holders[2]!;
    await stakeFor(core, [staker], 400n * ONE);
    await send(sm.connect(staker).requestUnstake(150n * ONE));
    expect(await sm.getVotes(staker.address)).to.equal(400n * ONE);
    await networkHelpers.time.increase(core.options.unbondingPeriod);
    await send(sm.connect(staker).withdraw());
    expect(await sm.getVotes(staker.address)).to.equal(250n * ONE);
    await networkHelpers.mine(1);
    const last = BigInt(await connection.ethers.provider.getBlockNumber()) - 1n;
    expect(await sm.getPastTotalSupply(last)).to.equal((await sm.totalBonded()) + (await sm.totalUnbonding()));
  });

  async function slashT1() {
    const d = await networkHelpers.loadFixture(runFixture);
    const sm = d.core.stakeManager;
    const [t0, t1] = d.trainers;
    const before = await sm.getVotes(t1!.address);
    expect(before).to.equal(100n * ONE);
    const { info } = await playRound(d, {
      revealers: [t0!, t1!],
      votes: d.validators.map((v) => ({ validator: v, scores: [900_000, 0], modelHash: AGREED_HASH })),
      finalize: false,
    });
    await timeTo(d, info.voteRevealDeadline);
    await send(d.run.finalizeRound(info.round, 1024n));
    const slashId = await sm.slashCount();
    const slashed = (await sm.slashRecord(slashId)).amount;
    expect(slashed).to.be.greaterThan(0n);
    expect(await sm.escrowedOf(t1!.address)).to.equal(slashed);
    return { d, sm, t1: t1!, before, slashId, slashed };
  }

  async function expectConserved(d: Awaited<ReturnType<typeof runFixture>>) {
    const sm = d.core.stakeManager;
    await networkHelpers.mine(1);
    const last = BigInt(await connection.ethers.provider.getBlockNumber()) - 1n;
    expect(await sm.getPastTotalSupply(last)).to.equal(
      (await sm.totalBonded()) + (await sm.totalUnbonding()) + (await sm.totalEscrowed()),
    );
  }

  it("a resolved slash removes the slashed stake's votes; while in escrow it still votes", async function () {
    const { d, sm, t1, before, slashId, slashed } = await slashT1();
    // in escrow the slashed tokens are still the account's (a reversal returns them)
    expect(await sm.getVotes(t1.address)).to.equal(before);
    await networkHelpers.time.increaseTo(await sm.slashAppealDeadline(slashId));
    await expect(sm.resolveSlash(slashId))
      .to.emit(sm, "DelegateVotesChanged")
      .withArgs(t1.address, before, before - slashed);
    expect(await sm.getVotes(t1.address)).to.equal(before - slashed);
    expect(await sm.escrowedOf(t1.address)).to.equal(0n);
    await expectConserved(d);
  });

  it("a reversed slash keeps the votes whole (the tokens go back to bonded)", async function () {
    const { d, sm, t1, before, slashId } = await slashT1();
    await expect(sm.connect(d.governance).reverseSlash(slashId)).to.not.emit(sm, "DelegateVotesChanged");
    expect(await sm.getVotes(t1.address)).to.equal(before);
    expect(await sm.escrowedOf(t1.address)).to.equal(0n);
    expect(await sm.bondedOf(t1.address)).to.equal(before);
    await expectConserved(d);
  });

  it("the proposal threshold counts stake votes too", async function () {
    const core = await networkHelpers.loadFixture(coreFixture);
    const staker = core.holders[2]!;
    const all = await core.token.balanceOf(staker.address);
    await stakeFor(core, [staker], all);
    await networkHelpers.mine(1);
    const target = await core.timelock.getAddress();
    const calldata = core.timelock.interface.encodeFunctionData("getMinDelay");
    await expect(core.governor.connect(staker).propose([target], [0n], [calldata], "staker proposes"))
      .to.emit(core.governor, "ProposalCreated");
  });
});
