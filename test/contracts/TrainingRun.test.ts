import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { commitmentOf } from "../../node/src/chain/commitment.js";
import {
  AGREED_HASH,
  deployRun,
  fixRandomness,
  fixRandomnessWhere,
  fundedWallets,
  INITIAL_MODEL_HASH,
  makeUpdate,
  Phase,
  playRound,
  Role,
  type RunDeployment,
  seatDrawOf,
  seatsOf,
  seatThresholdOf,
  send,
  TEST_RUN_PARAMS,
  timeTo,
  voteCommitmentOf,
  voteFor,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const P = TEST_RUN_PARAMS;
const MIN_T = BigInt(P.minTrainerStake);
const MIN_V = BigInt(P.minValidatorStake);

/** Round 2 open (round 1 played empty): 4 eligible trainers with seats, 3 validators. */
const runFixture = () => deployRun(connection);
/** Round 1 open, nobody joined yet (the members are only staked). */
const freshFixture = () => deployRun(connection, { join: false });
const oneSeatFixture = () => deployRun(connection, { params: { ...P, trainerSeats: 1 } });
const twoSeatFixture = () =>
  deployRun(connection, { trainers: 3, params: { ...P, maxNodesPerRound: 2, trainerSeats: 2 }, warmUp: false });
/** Two committee seats among three validators: a validator often holds none. */
const smallCommitteeFixture = () =>
  deployRun(connection, { params: { ...P, committeeSize: 2, scorersPerUpdate: 2 }, warmUp: false });

function commitmentFor(d: RunDeployment, node: string, round: bigint, u = makeUpdate(node, round)) {
  return commitmentOf({ runId: d.runId, round, node: node as Address, ...u });
}

describe("TrainingRun: participation and the round phases", function () {
  describe("round 1", function () {
    it("opens at creation with deadlines from the params, M_1 = the initial model hash and seed = keccak(rand_0, runId, 1), rand_0 from the creation block's parent hash", async function () {
      const d = await networkHelpers.loadFixture(freshFixture);
      const info = await d.run.currentRound();
      expect(info.round).to.equal(1n);
      expect(info.modelHash).to.equal(INITIAL_MODEL_HASH);
      const [event] = await d.run.queryFilter(d.run.filters.RoundOpened(d.runId, 1n));
      const block = await ethers.provider.getBlock(event!.blockNumber);
      const parent = await ethers.provider.getBlock(event!.blockNumber - 1);
      const coder = AbiCoder.defaultAbiCoder();
      const rand0 = keccak256(coder.encode(["bytes32", "uint256", "uint256"], [parent!.hash, d.runId, 0n]));
      const seed = keccak256(coder.encode(["bytes32", "uint256", "uint256"], [rand0, d.runId, 1n]));
      expect(info.seatRandomness).to.equal(rand0);
      expect(info.seed).to.equal(seed);
      expect(event!.args.seed).to.equal(seed);
      const t = BigInt(block!.timestamp);
      const commit = t + BigInt(P.commitDuration);
      const reveal = commit + BigInt(P.revealDuration);
      const score = reveal + BigInt(P.scoreDuration);
      const voteReveal = score + BigInt(P.voteRevealDuration);
      expect([info.commitDeadline, info.revealDeadline, info.scoreDeadline, info.voteRevealDeadline]).to.deep.equal([
        commit,
        reveal,
        score,
        voteReveal,
      ]);
      expect([info.challengeBlock, info.randomnessReady, info.randomness, info.seatTotal]).to.deep.equal([
        0n,
        false,
        ethers.ZeroHash,
        0n,
      ]);
      expect(await d.run.phase()).to.equal(Phase.Commit);
    });

    it("is a registration round: a trainer joining in it counts from round 2, so it has no seat in round 1", async function () {
      const d = await networkHelpers.loadFixture(freshFixture);
      const [t0] = d.trainers;
      await expect(d.run.connect(t0!).join(Role.Trainer, MIN_T))
        .to.emit(d.run, "Joined")
        .withArgs(d.runId, t0!.address, Role.Trainer, MIN_T, 2n);
      const [seat, , threshold] = await d.run.seatDraw(t0!.address);
      expect([seat, threshold]).to.deep.equal([false, 0n]);
      await expect(d.run.connect(t0!).commit(1n, commitmentFor(d, t0!.address, 1n)))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotYetEligible")
        .withArgs(t0!.address, 1n, 2n);
    });
  });

  describe("join, raiseLock and leave", function () {
    it("join locks the amount chosen (at least the role's minimum), leave releases it", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const runAddress = await d.run.getAddress();
      const [trainer] = d.trainers;
      const [validator] = d.validators;
      expect(await d.core.stakeManager.lockedBy(runAddress, trainer!.address)).to.equal(MIN_T);
      expect(await d.core.stakeManager.lockedBy(runAddress, validator!.address)).to.equal(MIN_V);
      const member = await d.run.memberOf(trainer!.address);
      expect([member.role, member.lock, member.eligibleFrom]).to.deep.equal([Role.Trainer, MIN_T, 2n]);

      await expect(d.run.connect(trainer!).leave())
        .to.emit(d.run, "Left")
        .withArgs(d.runId, trainer!.address, Role.Trainer, MIN_T);
      expect(await d.core.stakeManager.lockedBy(runAddress, trainer!.address)).to.equal(0n);
      expect((await d.run.memberOf(trainer!.address)).role).to.equal(Role.None);

      // a validator joining in round 2's commit phase is drawn from round 2 on
      await expect(d.run.connect(trainer!).join(Role.Validator, 3n * MIN_T))
        .to.be.revertedWithCustomError(d.run, "TrainingRunLockBelowMinimum")
        .withArgs(trainer!.address, 3n * MIN_T, MIN_V);
      await expect(d.run.connect(trainer!).join(Role.Trainer, 3n * MIN_T))
        .to.emit(d.run, "Joined")
        .withArgs(d.runId, trainer!.address, Role.Trainer, 3n * MIN_T, 3n);
      expect(await d.core.stakeManager.lockedBy(runAddress, trainer!.address)).to.equal(3n * MIN_T);
    });

    it("joining twice, as None, with 0 or more than 96 bits, leaving as a non-member and joining without enough free stake revert", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      await expect(d.run.connect(trainer!).join(Role.Validator, MIN_V))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyJoined")
        .withArgs(trainer!.address, Role.Trainer);
      await expect(d.run.connect(d.outsider).join(Role.None, MIN_T))
        .to.be.revertedWithCustomError(d.run, "TrainingRunInvalidRole")
        .withArgs(Role.None);
      for (const amount of [0n, 2n ** 96n]) {
        await expect(d.run.connect(d.outsider).join(Role.Trainer, amount))
          .to.be.revertedWithCustomError(d.run, "TrainingRunLockAmountInvalid")
          .withArgs(amount);
      }
      await expect(d.run.connect(d.outsider).leave())
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotMember")
        .withArgs(d.outsider.address);
      await expect(d.run.connect(d.outsider).join(Role.Trainer, MIN_T))
        .to.be.revertedWithCustomError(d.core.stakeManager, "StakeManagerInsufficientFreeStake")
        .withArgs(d.outsider.address, 0n, MIN_T);
    });

    it("a trainer's lock counts from the next round if made by the commit deadline, else from the one after; a validator's from this round or the next", async function () {
      const d = await networkHelpers.loadFixture(freshFixture);
      const [t0, t1] = d.trainers;
      const [v0, v1] = d.validators;
      await expect(d.run.connect(t0!).join(Role.Trainer, MIN_T)).to.emit(d.run, "Joined").withArgs(d.runId, t0!.address, Role.Trainer, MIN_T, 2n);
      await expect(d.run.connect(v0!).join(Role.Validator, MIN_V)).to.emit(d.run, "Joined").withArgs(d.runId, v0!.address, Role.Validator, MIN_V, 1n);
      const info = await d.run.currentRound();
      await timeTo(d, info.commitDeadline);
      // the first transaction after the commit deadline arms the challenge: round 2's lottery is on
      await expect(d.run.connect(t1!).join(Role.Trainer, MIN_T))
        .to.emit(d.run, "Joined")
        .withArgs(d.runId, t1!.address, Role.Trainer, MIN_T, 3n)
        .and.to.emit(d.run, "ChallengeArmed");
      await expect(d.run.connect(v1!).join(Role.Validator, MIN_V))
        .to.be.revertedWithCustomError(d.run, "TrainingRunValidatorSetFrozen")
        .withArgs(1n);
      // raising after the deadline also moves the whole lock to round 3
      await expect(d.run.connect(t0!).raiseLock(MIN_T))
        .to.emit(d.run, "LockRaised")
        .withArgs(d.runId, t0!.address, Role.Trainer, MIN_T, 2n * MIN_T, 3n);
      await playRound(d, { revealers: [], votes: [] });
      // round 2's lottery counts the locks of when round 1's commits closed: t0's MIN_T (its raise
      // came later and moved t0 to round 3), not t1's
      const two = await d.run.currentRound();
      expect([two.round, two.seatTotal]).to.deep.equal([2n, MIN_T]);
      await expect(d.run.connect(t0!).commit(2n, commitmentFor(d, t0!.address, 2n)))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotYetEligible")
        .withArgs(t0!.address, 2n, 3n);
      await expect(d.run.connect(v1!).join(Role.Validator, MIN_V)).to.emit(d.run, "Joined").withArgs(d.runId, v1!.address, Role.Validator, MIN_V, 2n);
    });

    it("raiseLock locks more in the StakeManager; it needs membership and a nonzero amount", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [t0] = d.trainers;
      const [v0] = d.validators;
      await expect(d.run.connect(t0!).raiseLock(MIN_T))
        .to.emit(d.run, "LockRaised")
        .withArgs(d.runId, t0!.address, Role.Trainer, MIN_T, 2n * MIN_T, 3n);
      expect(await d.core.stakeManager.lockedBy(await d.run.getAddress(), t0!.address)).to.equal(2n * MIN_T);
      await expect(d.run.connect(v0!).raiseLock(MIN_V))
        .to.emit(d.run, "LockRaised")
        .withArgs(d.runId, v0!.address, Role.Validator, MIN_V, 2n * MIN_V, 2n);
      const [validators, locks] = await d.run.validatorSet();
      expect(locks[validators.indexOf(v0!.address)]).to.equal(2n * MIN_V);
      await expect(d.run.connect(t0!).raiseLock(0n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunLockAmountInvalid")
        .withArgs(0n);
      await expect(d.run.connect(d.outsider).raiseLock(1n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotMember")
        .withArgs(d.outsider.address);
    });

    it("leave reverts while the node's commit is in an unsettled round and works once it is settled", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      await send(d.run.connect(trainer!).commit(2n, commitmentFor(d, trainer!.address, 2n)));
      await expect(d.run.connect(trainer!).leave())
        .to.be.revertedWithCustomError(d.run, "TrainingRunLeaveWhileActive")
        .withArgs(trainer!.address, 2n);
      await playRound(d, { revealers: [], votes: [] });
      await expect(d.run.connect(trainer!).leave()).to.emit(d.run, "Left");
    });

    it("validators cannot join, raise or leave between the commit deadline and settlement (the committee is drawn from the set)", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [v0] = d.validators;
      const info = await d.run.currentRound();
      await timeTo(d, info.commitDeadline);
      for (const call of [d.run.connect(v0!).leave(), d.run.connect(v0!).raiseLock(1n)]) {
        await expect(call).to.be.revertedWithCustomError(d.run, "TrainingRunValidatorSetFrozen").withArgs(2n);
      }
      await playRound(d, { revealers: [], votes: [] });
      await expect(d.run.connect(v0!).leave()).to.emit(d.run, "Left");
    });

    it("the validator set holds 64: a join that does not lock more than the smallest lock reverts, a larger one evicts the smallest", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const extra = await fundedWallets(d.core, "set-filler", 62, 2n * MIN_V);
      for (const w of extra) await send(d.run.connect(w).join(Role.Validator, MIN_V + 1n));
      expect((await d.run.validatorSet())[0]).to.have.length(64);
      const [newcomer] = await fundedWallets(d.core, "set-newcomer", 1, 2n * MIN_V);
      await expect(d.run.connect(newcomer!).join(Role.Validator, MIN_V))
        .to.be.revertedWithCustomError(d.run, "TrainingRunValidatorSetFull")
        .withArgs(64n, MIN_V, MIN_V);
      // the smallest lock: the first of the three equal MIN_V ones in set order
      const [set, locks] = await d.run.validatorSet();
      const v0 = { address: set[locks.findIndex((l) => l === MIN_V)]! };
      await expect(d.run.connect(newcomer!).join(Role.Validator, MIN_V + 1n))
        .to.emit(d.run, "Evicted")
        .withArgs(d.runId, v0!.address, Role.Validator, MIN_V, newcomer!.address);
      expect((await d.run.memberOf(v0!.address)).role).to.equal(Role.None);
      expect(await d.core.stakeManager.lockedBy(await d.run.getAddress(), v0!.address)).to.equal(0n);
      const [validators] = await d.run.validatorSet();
      expect(validators).to.have.length(64);
      expect(validators).to.include(newcomer!.address);
      expect(validators).not.to.include(v0!.address);
    });
  });

  describe("commit and the seat lottery", function () {
    it("records the commitment, emits Committed and lists the committer", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const c = commitmentFor(d, trainer!.address, 2n);
      await expect(d.run.connect(trainer!).commit(2n, c))
        .to.emit(d.run, "Committed")
        .withArgs(d.runId, 2n, trainer!.address, c);
      expect(await d.run.committer(0n)).to.equal(trainer!.address);
      expect((await d.run.currentRound()).commits).to.equal(1n);
      expect((await d.run.memberOf(trainer!.address)).activeRound).to.equal(2n);
    });

    it("seatDraw is the lottery commit applies: draw = keccak(rand_{r-1}, node) mod 1e6 below min(1e6, N x lock x 1e6 / seatTotal)", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const info = await d.run.currentRound();
      expect(info.seatTotal).to.equal(4n * MIN_T);
      for (const t of d.trainers) {
        const [seat, draw, threshold] = await d.run.seatDraw(t.address);
        expect(draw).to.equal(seatDrawOf(info.seatRandomness, t.address));
        expect(threshold).to.equal(seatThresholdOf(BigInt(P.trainerSeats), MIN_T, info.seatTotal));
        expect(seat).to.equal(true);
      }
      // outsiders and validators hold no ticket
      for (const a of [d.outsider.address, d.validators[0]!.address]) {
        const [seat, , threshold] = await d.run.seatDraw(a);
        expect([seat, threshold]).to.deep.equal([false, 0n]);
      }
    });

    it("a trainer whose draw misses reverts TrainingRunNoSeat(node, round, draw, threshold)", async function () {
      // one expected seat among four equal trainers: each wins with probability 1/4
      const d = await networkHelpers.loadFixture(oneSeatFixture);
      const info = await d.run.currentRound();
      const losers = d.trainers.filter((t) => seatDrawOf(info.seatRandomness, t.address) >= 250_000n);
      for (const t of losers) {
        const draw = seatDrawOf(info.seatRandomness, t.address);
        await expect(d.run.connect(t).commit(2n, commitmentFor(d, t.address, 2n)))
          .to.be.revertedWithCustomError(d.run, "TrainingRunNoSeat")
          .withArgs(t.address, 2n, draw, 250_000n);
      }
      for (const t of d.trainers.filter((w) => !losers.includes(w))) {
        await expect(d.run.connect(t).commit(2n, commitmentFor(d, t.address, 2n))).to.emit(d.run, "Committed");
      }
    });

    it("a second commit in the same round reverts TrainingRunAlreadyCommitted", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const c = commitmentFor(d, trainer!.address, 2n);
      await send(d.run.connect(trainer!).commit(2n, c));
      await expect(d.run.connect(trainer!).commit(2n, c))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyCommitted")
        .withArgs(2n, trainer!.address);
    });

    it("a commit after the commit deadline reverts TrainingRunWrongPhase(round, Reveal, Commit); one exactly at the deadline is accepted", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [t0, t1] = d.trainers;
      const info = await d.run.currentRound();
      await networkHelpers.time.setNextBlockTimestamp(info.commitDeadline);
      await expect(d.run.connect(t0!).commit(2n, ethers.ZeroHash)).to.emit(d.run, "Committed");
      await expect(d.run.connect(t1!).commit(2n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
        .withArgs(2n, Phase.Reveal, Phase.Commit);
    });

    it("a commit by a validator or a non-member reverts TrainingRunWrongRole", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [validator] = d.validators;
      await expect(d.run.connect(validator!).commit(2n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
        .withArgs(validator!.address, Role.Validator, Role.Trainer);
      await expect(d.run.connect(d.outsider).commit(2n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
        .withArgs(d.outsider.address, Role.None, Role.Trainer);
    });

    it("a commit naming another round reverts TrainingRunWrongRound", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      await expect(d.run.connect(d.trainers[0]!).commit(3n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRound")
        .withArgs(3n, 2n);
    });

    it("commits beyond maxNodesPerRound revert TrainingRunRoundFull", async function () {
      // 2 expected seats among 3 equal trainers (2/3 each): round 1's challenge block is mined
      // until all three win round 2's lottery, so the cap, not the lottery, stops the third
      const d = await networkHelpers.loadFixture(twoSeatFixture);
      const threshold = seatThresholdOf(2n, MIN_T, 3n * MIN_T);
      await playRound(d, {
        revealers: [],
        votes: [],
        committeeWhere: (_, rand) => d.trainers.every((t) => seatDrawOf(rand, t.address) < threshold),
      });
      await send(d.run.connect(d.trainers[0]!).commit(2n, ethers.ZeroHash));
      await send(d.run.connect(d.trainers[1]!).commit(2n, ethers.ZeroHash));
      expect((await d.run.seatDraw(d.trainers[2]!.address))[0]).to.equal(true);
      await expect(d.run.connect(d.trainers[2]!).commit(2n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunRoundFull")
        .withArgs(2n, 2n);
    });
  });

  describe("reveal", function () {
    async function committed() {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const u = makeUpdate(trainer!.address, 2n, 777n);
      await send(d.run.connect(trainer!).commit(2n, commitmentFor(d, trainer!.address, 2n, u)));
      const info = await d.run.currentRound();
      return { d, trainer: trainer!, u, info };
    }

    it("emits the CID, stores the content hash and samples, in reveal order; the first reveal arms the challenge", async function () {
      const { d, trainer, u, info } = await committed();
      const [, second] = d.trainers;
      const u2 = makeUpdate(second!.address, 2n, 5n);
      await send(d.run.connect(second!).commit(2n, commitmentFor(d, second!.address, 2n, u2)));
      await timeTo(d, info.commitDeadline);
      const first = await send(d.run.connect(second!).reveal(2n, u2.cid, u2.contentHash, u2.samples, u2.salt));
      await expect(first.hash)
        .to.emit(d.run, "ChallengeArmed")
        .withArgs(d.runId, 2n, BigInt(first.blockNumber) + 1n);
      await expect(d.run.connect(trainer).reveal(2n, u.cid, u.contentHash, u.samples, u.salt))
        .to.emit(d.run, "Revealed")
        .withArgs(d.runId, 2n, trainer.address, 1n, u.cid, u.contentHash, u.samples);
      expect(await d.run.revealedUpdate(0n)).to.deep.equal([second!.address, u2.contentHash, u2.samples]);
      expect(await d.run.revealedUpdate(1n)).to.deep.equal([trainer.address, u.contentHash, u.samples]);
      expect((await d.run.memberOf(trainer.address)).revealedRound).to.equal(2n);
      await expect(d.run.revealedUpdate(2n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunIndexOutOfRange")
        .withArgs(2n, 2n);
    });

    it("a reveal before the commit deadline reverts TrainingRunWrongPhase(round, Commit, Reveal), so no update is visible while commits are open", async function () {
      const { d, trainer, u, info } = await committed();
      await networkHelpers.time.setNextBlockTimestamp(info.commitDeadline);
      await expect(d.run.connect(trainer).reveal(2n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
        .withArgs(2n, Phase.Commit, Phase.Reveal);
    });

    it("a reveal whose values differ from the commitment reverts TrainingRunRevealMismatch(computed, committed)", async function () {
      const { d, trainer, u, info } = await committed();
      await timeTo(d, info.commitDeadline);
      const committedHash = commitmentFor(d, trainer.address, 2n, u);
      const variants = [
        { ...u, cid: `${u.cid}x` },
        { ...u, contentHash: keccak256("0x01") as Hex },
        { ...u, samples: u.samples + 1n },
        { ...u, salt: keccak256("0x02") as Hex },
      ];
      for (const v of variants) {
        await expect(d.run.connect(trainer).reveal(2n, v.cid, v.contentHash, v.samples, v.salt))
          .to.be.revertedWithCustomError(d.run, "TrainingRunRevealMismatch")
          .withArgs(2n, trainer.address, commitmentFor(d, trainer.address, 2n, v), committedHash);
      }
    });

    it("another node cannot reveal someone's commitment (the node address is inside the hash)", async function () {
      const { d, trainer, u, info } = await committed();
      const [, copier] = d.trainers;
      await send(d.run.connect(copier!).commit(2n, commitmentFor(d, trainer.address, 2n, u)));
      await timeTo(d, info.commitDeadline);
      await expect(
        d.run.connect(copier!).reveal(2n, u.cid, u.contentHash, u.samples, u.salt),
      ).to.be.revertedWithCustomError(d.run, "TrainingRunRevealMismatch");
    });

    it("a reveal without a commit reverts TrainingRunNotCommitted", async function () {
      const { d, info } = await committed();
      const [, other] = d.trainers;
      const u = makeUpdate(other!.address, 2n);
      await timeTo(d, info.commitDeadline);
      await expect(d.run.connect(other!).reveal(2n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotCommitted")
        .withArgs(2n, other!.address);
    });

    it("a second reveal reverts TrainingRunAlreadyRevealed", async function () {
      const { d, trainer, u, info } = await committed();
      await timeTo(d, info.commitDeadline);
      await send(d.run.connect(trainer).reveal(2n, u.cid, u.contentHash, u.samples, u.salt));
      await expect(d.run.connect(trainer).reveal(2n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyRevealed")
        .withArgs(2n, trainer.address);
    });

    it("a reveal after the reveal deadline reverts TrainingRunWrongPhase(round, Score, Reveal)", async function () {
      const { d, trainer, u, info } = await committed();
      await networkHelpers.time.setNextBlockTimestamp(info.revealDeadline + 1n);
      await expect(d.run.connect(trainer).reveal(2n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
        .withArgs(2n, Phase.Score, Phase.Reveal);
    });

    it("an empty or over-long CID reverts TrainingRunCidLength", async function () {
      const { d, trainer, info } = await committed();
      await timeTo(d, info.commitDeadline);
      for (const cid of ["", "b".repeat(129)]) {
        const u = { ...makeUpdate(trainer.address, 2n), cid };
        await expect(d.run.connect(trainer).reveal(2n, u.cid, u.contentHash, u.samples, u.salt))
          .to.be.revertedWithCustomError(d.run, "TrainingRunCidLength")
          .withArgs(cid.length, 128n);
      }
    });
  });

  describe("randomness, committee and blind votes", function () {
    /** Two trainers committed and revealed; the chain is at the start of the score phase, randomness not armed unless a reveal armed it. */
    async function revealed(fixture = runFixture) {
      const d = await networkHelpers.loadFixture(fixture);
      const info = await d.run.currentRound();
      const trainers = d.trainers.slice(0, 2);
      const updates = trainers.map((t) => makeUpdate(t.address, 2n));
      for (const [i, t] of trainers.entries()) {
        await send(d.run.connect(t).commit(2n, commitmentFor(d, t.address, 2n, updates[i])));
      }
      await timeTo(d, info.commitDeadline);
      for (const [i, t] of trainers.entries()) {
        const u = updates[i]!;
        await send(d.run.connect(t).reveal(2n, u.cid, u.contentHash, u.samples, u.salt));
      }
      await timeTo(d, info.revealDeadline);
      await fixRandomness(d, 2n);
      const committee = [...(await d.run.committee())];
      const member = d.validators.find((v) => seatsOf(committee, v.address) > 0)!;
      return { d, info, committee, member };
    }

    async function vote(d: RunDeployment, validator: RunDeployment["validators"][number], scores: number[], salt = keccak256("0x5a")) {
      const shaped = await voteFor(d, validator.address, scores);
      const v = { runId: d.runId, round: 2n, validator: validator.address, ...shaped, modelHash: AGREED_HASH, evalLoss: 123n, salt };
      return { ...v, commitment: voteCommitmentOf(v) };
    }

    it("the randomness is blockhash(challengeBlock) mixed with runId and round; the committee is C stake-weighted seats of the validator set", async function () {
      const { d, committee } = await revealed();
      const info = await d.run.currentRound();
      const block = await ethers.provider.getBlock(Number(info.challengeBlock));
      const rand = keccak256(
        AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256", "uint256"], [block!.hash, d.runId, 2n]),
      );
      expect([info.randomnessReady, info.randomness]).to.deep.equal([true, rand]);
      expect(committee).to.have.length(Number(P.committeeSize));
      expect(committee).to.deep.equal([...(await d.run.committeeFor(rand))]);
      for (const holder of committee) expect(d.validators.map((v) => v.address)).to.include(holder);
      // k = C: every seat scores every update, in reveal order
      for (let j = 0; j < committee.length; j++) expect(await d.run.assignedTo(j)).to.deep.equal([0n, 1n]);
      expect((await d.run.scorersOf(0n)).map(Number).sort((a, b) => a - b)).to.deep.equal(
        [...Array(Number(P.committeeSize)).keys()],
      );
    });

    it("commitVote stores the commitment with the seats held as weight; revealVote opens it and emits the scores per seat", async function () {
      const { d, committee, member } = await revealed();
      const weight = BigInt(seatsOf(committee, member.address));
      const v = await vote(d, member, [600_000, 0]);
      await expect(d.run.connect(member).commitVote(2n, v.commitment))
        .to.emit(d.run, "VoteCommitted")
        .withArgs(d.runId, 2n, member.address, weight, v.commitment)
        .and.to.emit(d.run, "CommitteeDrawn");
      expect(await d.run.vote(0n)).to.deep.equal([member.address, weight, v.commitment, false, ethers.ZeroHash, 0n]);
      expect(v.seatLengths).to.deep.equal(Array(Number(weight)).fill(2));
      const info = await d.run.currentRound();
      await timeTo(d, info.scoreDeadline);
      await expect(d.run.connect(member).revealVote(2n, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt))
        .to.emit(d.run, "VoteRevealed")
        .withArgs(d.runId, 2n, member.address, weight, AGREED_HASH, 123n, v.seatLengths, v.scores);
      expect(await d.run.vote(0n)).to.deep.equal([member.address, weight, v.commitment, true, AGREED_HASH, 123n]);
      expect((await d.run.currentRound()).voteReveals).to.equal(1n);
    });

    it("commitVote before the randomness is readable reverts TrainingRunRandomnessNotReady(round, readyAt); armChallenge arms it and it is ready a block later", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const info = await d.run.currentRound();
      await timeTo(d, info.revealDeadline);
      const [v0] = d.validators;
      // nobody armed the challenge: the reverted call would have armed it for the block after next
      const latest = BigInt(await ethers.provider.getBlockNumber());
      await expect(d.run.connect(v0!).commitVote(2n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunRandomnessNotReady")
        .withArgs(2n, latest + 3n);
      const armed = await send(d.run.connect(d.outsider).armChallenge(2n));
      const challengeBlock = BigInt(armed.blockNumber) + 1n;
      expect((await d.run.currentRound()).challengeBlock).to.equal(challengeBlock);
      // the next block is the challenge block itself: its hash is not known inside it
      await expect(d.run.connect(v0!).commitVote(2n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunRandomnessNotReady")
        .withArgs(2n, challengeBlock + 1n);
      await fixRandomness(d, 2n);
      const committee = [...(await d.run.committee())];
      const holder = d.validators.find((v) => seatsOf(committee, v.address) > 0)!;
      await expect(d.run.connect(holder).commitVote(2n, ethers.ZeroHash))
        .to.emit(d.run, "ChallengeFixed")
        .and.to.emit(d.run, "VoteCommitted");
    });

    it("commitVote by a validator without a seat reverts TrainingRunNotOnCommittee; by a trainer or outsider TrainingRunWrongRole; twice TrainingRunAlreadyVoted", async function () {
      const d = await networkHelpers.loadFixture(smallCommitteeFixture);
      const [v0, , v2] = d.validators;
      const info = await d.run.currentRound();
      await timeTo(d, info.commitDeadline);
      // the test, as a block producer, mines a challenge block whose committee leaves v2 out
      await fixRandomnessWhere(d, 1n, (c) => seatsOf(c, v2!.address) === 0 && seatsOf(c, v0!.address) > 0);
      await timeTo(d, info.revealDeadline);
      await expect(d.run.connect(v2!).commitVote(1n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotOnCommittee")
        .withArgs(1n, v2!.address);
      for (const who of [d.trainers[0]!, d.outsider]) {
        await expect(d.run.connect(who).commitVote(1n, ethers.ZeroHash)).to.be.revertedWithCustomError(
          d.run,
          "TrainingRunWrongRole",
        );
      }
      await send(d.run.connect(v0!).commitVote(1n, ethers.ZeroHash));
      await expect(d.run.connect(v0!).commitVote(1n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyVoted")
        .withArgs(1n, v0!.address);
    });

    it("votes outside their phases revert TrainingRunWrongPhase", async function () {
      const { d, member } = await revealed();
      const info = await d.run.currentRound();
      const v = await vote(d, member, [1, 1]);
      // revealVote in the score phase
      await expect(d.run.connect(member).revealVote(2n, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
        .withArgs(2n, Phase.Score, Phase.VoteReveal);
      await send(d.run.connect(member).commitVote(2n, v.commitment));
      await timeTo(d, info.scoreDeadline);
      await expect(d.run.connect(member).commitVote(2n, v.commitment))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
        .withArgs(2n, Phase.VoteReveal, Phase.Score);
      await timeTo(d, info.voteRevealDeadline);
      await expect(d.run.connect(member).revealVote(2n, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
        .withArgs(2n, Phase.Finalizable, Phase.VoteReveal);
    });

    it("revealVote checks the commitment and that it is the first reveal; a validator that committed nothing has nothing to reveal", async function () {
      const { d, member } = await revealed();
      const other = d.validators.find((v) => v !== member)!;
      const v = await vote(d, member, [1_000_000, 0]);
      await send(d.run.connect(member).commitVote(2n, v.commitment));
      const info = await d.run.currentRound();
      await timeTo(d, info.scoreDeadline);
      // not what was committed: every field counts
      for (const bad of [
        { ...v, scores: [...v.scores].reverse().map((s) => s + 1) },
        { ...v, modelHash: keccak256("0x01") },
        { ...v, evalLoss: 124n },
        { ...v, salt: keccak256("0x02") },
      ]) {
        await expect(
          d.run.connect(member).revealVote(2n, bad.seatLengths, bad.scores, bad.modelHash, bad.evalLoss, bad.salt),
        )
          .to.be.revertedWithCustomError(d.run, "TrainingRunRevealMismatch")
          .withArgs(2n, member.address, voteCommitmentOf(bad), v.commitment);
      }
      // a validator that committed nothing has nothing to reveal
      await expect(d.run.connect(other).revealVote(2n, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNoVoteCommitted")
        .withArgs(2n, other.address);
      await send(d.run.connect(member).revealVote(2n, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt));
      await expect(d.run.connect(member).revealVote(2n, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunVoteAlreadyRevealed")
        .withArgs(2n, member.address);
    });

    it("a vote whose shape does not match the seats held reverts TrainingRunVoteShapeMismatch; a score above 1e6 TrainingRunScoreOutOfRange", async function () {
      const { d, committee, member } = await revealed();
      const weight = seatsOf(committee, member.address);
      const salt = keccak256("0x77");
      const base = { runId: d.runId, round: 2n, validator: member.address, modelHash: AGREED_HASH, evalLoss: 1n, salt };
      const bad = [
        // one seat length too many
        { ...base, seatLengths: Array(weight + 1).fill(2), scores: Array(2 * (weight + 1)).fill(1) },
        // the lengths promise more scores than sent
        { ...base, seatLengths: Array(weight).fill(3), scores: Array(2 * weight).fill(1) },
        // a score out of range
        { ...base, seatLengths: Array(weight).fill(2), scores: [1_000_001, ...Array(2 * weight - 1).fill(1)] },
      ];
      // each candidate needs its own commitment; only one vote per validator, so one round each
      const snapshot = await networkHelpers.takeSnapshot();
      const errors = ["TrainingRunVoteShapeMismatch", "TrainingRunVoteShapeMismatch", "TrainingRunScoreOutOfRange"];
      for (const [i, v] of bad.entries()) {
        await snapshot.restore();
        await send(d.run.connect(member).commitVote(2n, voteCommitmentOf(v)));
        await timeTo(d, (await d.run.currentRound()).scoreDeadline);
        await expect(
          d.run.connect(member).revealVote(2n, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt),
        ).to.be.revertedWithCustomError(d.run, errors[i]!);
      }
    });
  });

  describe("finalizeRound", function () {
    it("reverts before the vote-reveal deadline, settles in one call when the batch covers it, opens the next round in that call and cannot run twice", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const info = await d.run.currentRound();
      await networkHelpers.time.setNextBlockTimestamp(info.voteRevealDeadline);
      await expect(d.run.finalizeRound(2n, 10n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongPhase")
        .withArgs(2n, Phase.VoteReveal, Phase.Finalizable);
      await expect(d.run.finalizeRound(2n, 0n)).to.be.revertedWithCustomError(d.run, "TrainingRunZeroBatch");
      await timeTo(d, info.revealDeadline + 10n);
      expect(await d.run.phase()).to.equal(Phase.Score);
      await timeTo(d, info.scoreDeadline + 1n);
      expect(await d.run.phase()).to.equal(Phase.VoteReveal);
      await timeTo(d, info.voteRevealDeadline + 1n);
      expect(await d.run.phase()).to.equal(Phase.Finalizable);
      // nobody armed the challenge: the first call arms it and returns false without reverting
      expect(await d.run.finalizeRound.staticCall(2n, 10n)).to.equal(false);
      await expect(d.run.connect(d.outsider).finalizeRound(2n, 10n)).to.emit(d.run, "ChallengeArmed");
      // a block later the randomness is fixed and the round settles
      await networkHelpers.mine(1);
      await expect(d.run.connect(d.outsider).finalizeRound(2n, 10n))
        .to.emit(d.run, "RoundOpened")
        .withArgs(
          d.runId,
          3n,
          (s: string) => s !== ethers.ZeroHash,
          INITIAL_MODEL_HASH,
          (x: bigint) => x > info.voteRevealDeadline,
          (x: bigint) => x > 0n,
          (x: bigint) => x > 0n,
          (x: bigint) => x > 0n,
        );
      expect((await d.run.currentRound()).round).to.equal(3n);
      await expect(d.run.finalizeRound(2n, 10n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRound")
        .withArgs(2n, 3n);
    });

    it("settles in batches of maxItems: SettlementProgress per call, `settled` advances, the last call opens the next round", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const { round } = await playRound(d, {
        revealers: d.trainers.slice(0, 3),
        silent: [d.trainers[3]!],
        votes: d.validators.map((v) => ({ validator: v, scores: [900_000, 900_000, 900_000], modelHash: AGREED_HASH })),
        finalize: false,
      });
      await timeTo(d, (await d.run.currentRound()).voteRevealDeadline + 1n);
      // 3 revealed updates, then the 4 committers (commits > reveals)
      const total = 7n;
      const progress: bigint[] = [];
      for (let i = 0; i < 4; i++) {
        const done = await d.run.finalizeRound.staticCall(round, 2n);
        const receipt = await send(d.run.finalizeRound(round, 2n));
        const [p] = receipt.logs.map((l) => d.run.interface.parseLog(l)).filter((e) => e?.name === "SettlementProgress");
        expect(p!.args.total).to.equal(total);
        progress.push(p!.args.processed as bigint);
        expect(done).to.equal(i === 3);
        if (i < 3) expect((await d.run.currentRound()).settled).to.equal(BigInt(2 * (i + 1)));
      }
      expect(progress).to.deep.equal([2n, 4n, 6n, 7n]);
      expect((await d.run.currentRound()).round).to.equal(round + 1n);
    });

    it("per-node slots are reused across rounds: a commit and a reveal work in consecutive rounds", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      for (const round of [2n, 3n]) {
        const info = await d.run.currentRound();
        expect(info.round).to.equal(round);
        const u = makeUpdate(trainer!.address, round);
        await playRound(d, { revealers: [trainer!], updates: new Map([[trainer!.address, u]]), votes: [] });
        const [e] = await d.run.queryFilter(d.run.filters.Revealed(d.runId, round));
        expect([e!.args.node, e!.args.contentHash, e!.args.samples]).to.deep.equal([trainer!.address, u.contentHash, u.samples]);
      }
      const info = await d.run.currentRound();
      expect([info.round, info.commits, info.reveals, info.votes, info.settled]).to.deep.equal([4n, 0n, 0n, 0n, 0n]);
      await expect(d.run.revealedUpdate(0n)).to.be.revertedWithCustomError(d.run, "TrainingRunIndexOutOfRange");
    });
  });

  describe("the implementation", function () {
    it("cannot be initialized, and a run cannot be initialized twice", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      for (const target of [d.implementation, d.run]) {
        await expect(
          target.initialize(P, INITIAL_MODEL_HASH, "bafy", d.outsider.address),
        ).to.be.revertedWithCustomError(d.implementation, "InvalidInitialization");
      }
    });

    it("reads runId, stake manager, token and governance from the clone's immutable args", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      expect(await d.run.runId()).to.equal(1n);
      expect(await d.run.stakeManager()).to.equal(await d.core.stakeManager.getAddress());
      expect(await d.run.token()).to.equal(await d.core.token.getAddress());
      expect(await d.run.governance()).to.equal(d.governance.address);
      expect(await d.run.guardian()).to.equal(d.guardian.address);
      expect(await d.run.initialModelCid()).to.match(/^bafk/);
    });
  });
});
