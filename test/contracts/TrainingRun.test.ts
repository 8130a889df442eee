import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { commitmentOf } from "../../node/src/chain/commitment.js";
import {
  AGREED_HASH,
  deployRun,
  INITIAL_MODEL_HASH,
  makeUpdate,
  Phase,
  Role,
  send,
  TEST_RUN_PARAMS,
  timeTo,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const runFixture = () => deployRun(connection);
const smallRoundFixture = () =>
  deployRun(connection, { params: { ...TEST_RUN_PARAMS, maxNodesPerRound: 2, maxValidators: 2 } });

describe("TrainingRun: participation and the round phases", function () {
  describe("round 1", function () {
    it("opens at creation with deadlines from the params, M_1 = the initial model hash and seed = keccak(prevrandao, previous blockhash, runId, round)", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const info = await d.run.currentRound();
      expect(info.round).to.equal(1n);
      expect(info.modelHash).to.equal(INITIAL_MODEL_HASH);
      expect(info.commitDeadline - info.revealDeadline).to.equal(
        -BigInt(TEST_RUN_PARAMS.revealDuration),
      );
      expect(info.scoreDeadline - info.revealDeadline).to.equal(
        BigInt(TEST_RUN_PARAMS.scoreDuration),
      );

      const filter = d.run.filters.RoundOpened(d.runId, 1n);
      const [event] = await d.run.queryFilter(filter);
      const block = await ethers.provider.getBlock(event!.blockNumber);
      const parent = await ethers.provider.getBlock(event!.blockNumber - 1);
      // after the merge, a block's mixHash field carries prevrandao
      const raw = (await ethers.provider.send("eth_getBlockByNumber", [
        ethers.toQuantity(event!.blockNumber),
        false,
      ])) as {
        mixHash: string;
      };
      const expectedSeed = keccak256(
        AbiCoder.defaultAbiCoder().encode(
          ["uint256", "bytes32", "uint256", "uint256"],
          [BigInt(raw.mixHash), parent!.hash, d.runId, 1n],
        ),
      );
      expect(info.seed).to.equal(expectedSeed);
      expect(event!.args.seed).to.equal(expectedSeed);
      expect(info.commitDeadline).to.equal(
        BigInt(block!.timestamp) + BigInt(TEST_RUN_PARAMS.commitDuration),
      );
      expect(await d.run.phase()).to.equal(Phase.Commit);
    });
  });

  describe("join and leave", function () {
    it("join locks the role's minimum stake and leave releases it", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const runAddress = await d.run.getAddress();
      const [trainer] = d.trainers;
      const [validator] = d.validators;
      expect(await d.core.stakeManager.lockedBy(runAddress, trainer!.address)).to.equal(
        TEST_RUN_PARAMS.minTrainerStake,
      );
      expect(await d.core.stakeManager.lockedBy(runAddress, validator!.address)).to.equal(
        TEST_RUN_PARAMS.minValidatorStake,
      );
      expect((await d.run.memberOf(trainer!.address)).role).to.equal(Role.Trainer);

      await expect(d.run.connect(trainer!).leave())
        .to.emit(d.run, "Left")
        .withArgs(d.runId, trainer!.address, Role.Trainer, TEST_RUN_PARAMS.minTrainerStake);
      expect(await d.core.stakeManager.lockedBy(runAddress, trainer!.address)).to.equal(0n);
      expect((await d.run.memberOf(trainer!.address)).role).to.equal(Role.None);

      await expect(d.run.connect(trainer!).join(Role.Validator))
        .to.emit(d.run, "Joined")
        .withArgs(d.runId, trainer!.address, Role.Validator, TEST_RUN_PARAMS.minValidatorStake);
    });

    it("joining twice, joining as None, leaving as a non-member and joining without enough free stake revert", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      await expect(d.run.connect(trainer!).join(Role.Validator))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyJoined")
        .withArgs(trainer!.address, Role.Trainer);
      await expect(d.run.connect(d.outsider).join(Role.None))
        .to.be.revertedWithCustomError(d.run, "TrainingRunInvalidRole")
        .withArgs(Role.None);
      await expect(d.run.connect(d.outsider).leave())
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotMember")
        .withArgs(d.outsider.address);
      await expect(d.run.connect(d.outsider).join(Role.Trainer))
        .to.be.revertedWithCustomError(d.core.stakeManager, "StakeManagerInsufficientFreeStake")
        .withArgs(d.outsider.address, 0n, TEST_RUN_PARAMS.minTrainerStake);
    });

    it("leave reverts while the node's commit is in an unfinalized round and works once it is finalized", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const u = makeUpdate(trainer!.address, 1n);
      await send(
        d.run.connect(trainer!).commit(1n, commitmentOf({ runId: d.runId, round: 1n, node: trainer!.address as Address, ...u })),
      );
      await expect(d.run.connect(trainer!).leave())
        .to.be.revertedWithCustomError(d.run, "TrainingRunLeaveWhileActive")
        .withArgs(trainer!.address, 1n);
      const info = await d.run.currentRound();
      await timeTo(d, info.scoreDeadline);
      await send(d.run.finalizeRound(1n));
      await expect(d.run.connect(trainer!).leave()).to.emit(d.run, "Left");
    });
  });

  describe("commit", function () {
    it("records the commitment, emits Committed and lists the committer", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const c = commitmentOf({ runId: d.runId, round: 1n, node: trainer!.address as Address, ...makeUpdate(trainer!.address, 1n) });
      await expect(d.run.connect(trainer!).commit(1n, c))
        .to.emit(d.run, "Committed")
        .withArgs(d.runId, 1n, trainer!.address, c);
      expect(await d.run.committer(0n)).to.equal(trainer!.address);
      expect((await d.run.currentRound()).commits).to.equal(1n);
      expect((await d.run.memberOf(trainer!.address)).activeRound).to.equal(1n);
    });

    it("a second commit in the same round reverts TrainingRunAlreadyCommitted", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const c = commitmentOf({ runId: d.runId, round: 1n, node: trainer!.address as Address, ...makeUpdate(trainer!.address, 1n) });
      await send(d.run.connect(trainer!).commit(1n, c));
      await expect(d.run.connect(trainer!).commit(1n, c))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyCommitted")
        .withArgs(1n, trainer!.address);
    });

    it("a commit after the commit deadline reverts TrainingRunPhaseClosed(round, Commit, deadline, now)", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const info = await d.run.currentRound();
      await timeTo(d, info.commitDeadline + 10n);
      await networkHelpers.time.setNextBlockTimestamp(info.commitDeadline + 20n);
      await expect(d.run.connect(trainer!).commit(1n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunPhaseClosed")
        .withArgs(1n, Phase.Commit, info.commitDeadline, info.commitDeadline + 20n);
    });

    it("a commit exactly at the commit deadline is accepted", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const info = await d.run.currentRound();
      await networkHelpers.time.setNextBlockTimestamp(info.commitDeadline);
      await expect(d.run.connect(trainer!).commit(1n, ethers.ZeroHash)).to.emit(d.run, "Committed");
    });

    it("a commit by a validator or a non-member reverts TrainingRunWrongRole", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [validator] = d.validators;
      await expect(d.run.connect(validator!).commit(1n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
        .withArgs(validator!.address, Role.Validator, Role.Trainer);
      await expect(d.run.connect(d.outsider).commit(1n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
        .withArgs(d.outsider.address, Role.None, Role.Trainer);
    });

    it("a commit naming another round reverts TrainingRunWrongRound", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      await expect(d.run.connect(d.trainers[0]!).commit(2n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRound")
        .withArgs(2n, 1n);
    });

    it("commits beyond maxNodesPerRound revert TrainingRunRoundFull", async function () {
      const d = await networkHelpers.loadFixture(smallRoundFixture);
      await send(d.run.connect(d.trainers[0]!).commit(1n, ethers.ZeroHash));
      await send(d.run.connect(d.trainers[1]!).commit(1n, ethers.ZeroHash));
      await expect(d.run.connect(d.trainers[2]!).commit(1n, ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.run, "TrainingRunRoundFull")
        .withArgs(1n, 2n);
    });
  });

  describe("reveal", function () {
    async function committed() {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      const u = makeUpdate(trainer!.address, 1n, 777n);
      await send(
        d.run.connect(trainer!).commit(1n, commitmentOf({ runId: d.runId, round: 1n, node: trainer!.address as Address, ...u })),
      );
      const info = await d.run.currentRound();
      return { d, trainer: trainer!, u, info };
    }

    it("emits the CID, stores the content hash and samples, in reveal order", async function () {
      const { d, trainer, u, info } = await committed();
      const [, second] = d.trainers;
      const u2 = makeUpdate(second!.address, 1n, 5n);
      await send(d.run.connect(second!).commit(1n, commitmentOf({ runId: d.runId, round: 1n, node: second!.address as Address, ...u2 })));
      await timeTo(d, info.commitDeadline);
      await send(d.run.connect(second!).reveal(1n, u2.cid, u2.contentHash, u2.samples, u2.salt));
      await expect(d.run.connect(trainer).reveal(1n, u.cid, u.contentHash, u.samples, u.salt))
        .to.emit(d.run, "Revealed")
        .withArgs(d.runId, 1n, trainer.address, 1n, u.cid, u.contentHash, u.samples);
      expect(await d.run.revealedUpdate(0n)).to.deep.equal([
        second!.address,
        u2.contentHash,
        u2.samples,
      ]);
      expect(await d.run.revealedUpdate(1n)).to.deep.equal([
        trainer.address,
        u.contentHash,
        u.samples,
      ]);
      expect((await d.run.memberOf(trainer.address)).revealedRound).to.equal(1n);
      await expect(d.run.revealedUpdate(2n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunIndexOutOfRange")
        .withArgs(2n, 2n);
    });

    it("a reveal before the commit deadline reverts TrainingRunPhaseNotOpen, so no update is visible while commits are open", async function () {
      const { d, trainer, u, info } = await committed();
      await networkHelpers.time.setNextBlockTimestamp(info.commitDeadline);
      await expect(d.run.connect(trainer).reveal(1n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunPhaseNotOpen")
        .withArgs(1n, Phase.Reveal, info.commitDeadline, info.commitDeadline);
    });

    it("a reveal whose values differ from the commitment reverts TrainingRunRevealMismatch(computed, committed)", async function () {
      const { d, trainer, u, info } = await committed();
      await timeTo(d, info.commitDeadline);
      const committedHash = commitmentOf({ runId: d.runId, round: 1n, node: trainer.address as Address, ...u });
      const variants = [
        { ...u, cid: `${u.cid}x` },
        { ...u, contentHash: keccak256("0x01") as Hex },
        { ...u, samples: u.samples + 1n },
        { ...u, salt: keccak256("0x02") as Hex },
      ];
      for (const v of variants) {
        await expect(d.run.connect(trainer).reveal(1n, v.cid, v.contentHash, v.samples, v.salt))
          .to.be.revertedWithCustomError(d.run, "TrainingRunRevealMismatch")
          .withArgs(
            1n,
            trainer.address,
            commitmentOf({ runId: d.runId, round: 1n, node: trainer.address as Address, ...v }),
            committedHash,
          );
      }
    });

    it("another node cannot reveal someone's commitment (the node address is inside the hash)", async function () {
      const { d, trainer, u, info } = await committed();
      const [, copier] = d.trainers;
      // the copier commits the victim's commitment verbatim, then tries to reveal the victim's update
      await send(d.run.connect(copier!).commit(1n, commitmentOf({ runId: d.runId, round: 1n, node: trainer.address as Address, ...u })));
      await timeTo(d, info.commitDeadline);
      await expect(
        d.run.connect(copier!).reveal(1n, u.cid, u.contentHash, u.samples, u.salt),
      ).to.be.revertedWithCustomError(d.run, "TrainingRunRevealMismatch");
    });

    it("a reveal without a commit reverts TrainingRunNotCommitted", async function () {
      const { d, info } = await committed();
      const [, other] = d.trainers;
      const u = makeUpdate(other!.address, 1n);
      await timeTo(d, info.commitDeadline);
      await expect(d.run.connect(other!).reveal(1n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunNotCommitted")
        .withArgs(1n, other!.address);
    });

    it("a second reveal reverts TrainingRunAlreadyRevealed", async function () {
      const { d, trainer, u, info } = await committed();
      await timeTo(d, info.commitDeadline);
      await send(d.run.connect(trainer).reveal(1n, u.cid, u.contentHash, u.samples, u.salt));
      await expect(d.run.connect(trainer).reveal(1n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyRevealed")
        .withArgs(1n, trainer.address);
    });

    it("a reveal after the reveal deadline reverts TrainingRunPhaseClosed", async function () {
      const { d, trainer, u, info } = await committed();
      await networkHelpers.time.setNextBlockTimestamp(info.revealDeadline + 1n);
      await expect(d.run.connect(trainer).reveal(1n, u.cid, u.contentHash, u.samples, u.salt))
        .to.be.revertedWithCustomError(d.run, "TrainingRunPhaseClosed")
        .withArgs(1n, Phase.Reveal, info.revealDeadline, info.revealDeadline + 1n);
    });

    it("an empty or over-long CID reverts TrainingRunCidLength", async function () {
      const { d, trainer, info } = await committed();
      await timeTo(d, info.commitDeadline);
      for (const cid of ["", "b".repeat(129)]) {
        const u = { ...makeUpdate(trainer.address, 1n), cid };
        await expect(d.run.connect(trainer).reveal(1n, u.cid, u.contentHash, u.samples, u.salt))
          .to.be.revertedWithCustomError(d.run, "TrainingRunCidLength")
          .withArgs(cid.length, 128n);
      }
    });
  });

  describe("submitScores", function () {
    /** Two trainers committed and revealed; the chain is in the score phase. */
    async function revealed(fixture = runFixture) {
      const d = await networkHelpers.loadFixture(fixture);
      const info = await d.run.currentRound();
      const trainers = d.trainers.slice(0, 2);
      const updates = trainers.map((t) => makeUpdate(t.address, 1n));
      for (const [i, t] of trainers.entries()) {
        await send(d.run.connect(t).commit(1n, commitmentOf({ runId: d.runId, round: 1n, node: t.address as Address, ...updates[i]! })));
      }
      await timeTo(d, info.commitDeadline);
      for (const [i, t] of trainers.entries()) {
        const u = updates[i]!;
        await send(d.run.connect(t).reveal(1n, u.cid, u.contentHash, u.samples, u.salt));
      }
      await timeTo(d, info.revealDeadline);
      return { d, info };
    }

    it("stores the scores with the validator's locked stake as weight and emits ScoresSubmitted", async function () {
      const { d } = await revealed();
      const [validator] = d.validators;
      await expect(d.run.connect(validator!).submitScores(1n, [600_000, 0], AGREED_HASH, 123n))
        .to.emit(d.run, "ScoresSubmitted")
        .withArgs(
          d.runId,
          1n,
          validator!.address,
          TEST_RUN_PARAMS.minValidatorStake,
          AGREED_HASH,
          123n,
          [600_000n, 0n],
        );
      const vote = await d.run.vote(0n);
      expect(vote.validator).to.equal(validator!.address);
      expect(vote.weight).to.equal(TEST_RUN_PARAMS.minValidatorStake);
      expect(vote.modelHash).to.equal(AGREED_HASH);
      expect(vote.evalLoss).to.equal(123n);
      expect(vote.scores).to.deep.equal([600_000n, 0n]);
    });

    it("scores by a trainer or a non-member revert TrainingRunWrongRole", async function () {
      const { d } = await revealed();
      await expect(d.run.connect(d.trainers[0]!).submitScores(1n, [1, 1], AGREED_HASH, 0n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
        .withArgs(d.trainers[0]!.address, Role.Trainer, Role.Validator);
      await expect(d.run.connect(d.outsider).submitScores(1n, [1, 1], AGREED_HASH, 0n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRole")
        .withArgs(d.outsider.address, Role.None, Role.Validator);
    });

    it("a second submission by the same validator reverts TrainingRunAlreadyScored", async function () {
      const { d } = await revealed();
      const [validator] = d.validators;
      await send(d.run.connect(validator!).submitScores(1n, [1, 1], AGREED_HASH, 0n));
      await expect(d.run.connect(validator!).submitScores(1n, [2, 2], AGREED_HASH, 0n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunAlreadyScored")
        .withArgs(1n, validator!.address);
    });

    it("a score count other than the number of revealed updates reverts TrainingRunScoreCountMismatch", async function () {
      const { d } = await revealed();
      const [validator] = d.validators;
      for (const scores of [[1], [1, 1, 1], []]) {
        await expect(d.run.connect(validator!).submitScores(1n, scores, AGREED_HASH, 0n))
          .to.be.revertedWithCustomError(d.run, "TrainingRunScoreCountMismatch")
          .withArgs(1n, scores.length, 2n);
      }
    });

    it("a score above 1,000,000 ppm reverts TrainingRunScoreOutOfRange", async function () {
      const { d } = await revealed();
      await expect(
        d.run.connect(d.validators[0]!).submitScores(1n, [1_000_000, 1_000_001], AGREED_HASH, 0n),
      )
        .to.be.revertedWithCustomError(d.run, "TrainingRunScoreOutOfRange")
        .withArgs(1n, 1_000_001n, 1_000_000n);
    });

    it("scores outside the score phase revert (PhaseNotOpen before, PhaseClosed after)", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const info = await d.run.currentRound();
      const [validator] = d.validators;
      await networkHelpers.time.setNextBlockTimestamp(info.revealDeadline);
      await expect(d.run.connect(validator!).submitScores(1n, [], AGREED_HASH, 0n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunPhaseNotOpen")
        .withArgs(1n, Phase.Score, info.revealDeadline, info.revealDeadline);
      await networkHelpers.time.setNextBlockTimestamp(info.scoreDeadline + 1n);
      await expect(d.run.connect(validator!).submitScores(1n, [], AGREED_HASH, 0n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunPhaseClosed")
        .withArgs(1n, Phase.Score, info.scoreDeadline, info.scoreDeadline + 1n);
    });

    it("more than maxValidators submissions revert TrainingRunTooManyValidators", async function () {
      const { d } = await revealed(smallRoundFixture);
      await send(d.run.connect(d.validators[0]!).submitScores(1n, [1, 1], AGREED_HASH, 0n));
      await send(d.run.connect(d.validators[1]!).submitScores(1n, [1, 1], AGREED_HASH, 0n));
      await expect(d.run.connect(d.validators[2]!).submitScores(1n, [1, 1], AGREED_HASH, 0n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunTooManyValidators")
        .withArgs(1n, 2n);
    });
  });

  describe("finalizeRound", function () {
    it("reverts before the score deadline, opens the next round in the same transaction, and cannot run twice", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const info = await d.run.currentRound();
      await networkHelpers.time.setNextBlockTimestamp(info.scoreDeadline);
      await expect(d.run.finalizeRound(1n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunPhaseNotOpen")
        .withArgs(1n, Phase.Finalizable, info.scoreDeadline, info.scoreDeadline);
      await timeTo(d, info.revealDeadline + 10n);
      expect(await d.run.phase()).to.equal(Phase.Score);
      await timeTo(d, info.scoreDeadline + 1n);
      expect(await d.run.phase()).to.equal(Phase.Finalizable);
      // anyone may finalize
      await expect(d.run.connect(d.outsider).finalizeRound(1n))
        .to.emit(d.run, "RoundOpened")
        .withArgs(
          d.runId,
          2n,
          (s: string) => s !== ethers.ZeroHash,
          INITIAL_MODEL_HASH,
          (x: bigint) => x > info.scoreDeadline,
          (x: bigint) => x > 0n,
          (x: bigint) => x > 0n,
        );
      expect((await d.run.currentRound()).round).to.equal(2n);
      await expect(d.run.finalizeRound(1n))
        .to.be.revertedWithCustomError(d.run, "TrainingRunWrongRound")
        .withArgs(1n, 2n);
    });

    it("per-node slots are reused across rounds: round 2 commit and reveal work after round 1", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      const [trainer] = d.trainers;
      for (const round of [1n, 2n]) {
        const info = await d.run.currentRound();
        expect(info.round).to.equal(round);
        const u = makeUpdate(trainer!.address, round);
        await send(
          d.run.connect(trainer!).commit(round, commitmentOf({ runId: d.runId, round, node: trainer!.address as Address, ...u })),
        );
        await timeTo(d, info.commitDeadline);
        await send(d.run.connect(trainer!).reveal(round, u.cid, u.contentHash, u.samples, u.salt));
        expect(await d.run.revealedUpdate(0n)).to.deep.equal([
          trainer!.address,
          u.contentHash,
          u.samples,
        ]);
        await timeTo(d, info.scoreDeadline);
        await send(d.run.finalizeRound(round));
      }
      const info = await d.run.currentRound();
      expect([info.round, info.commits, info.reveals, info.votes]).to.deep.equal([3n, 0n, 0n, 0n]);
      await expect(d.run.revealedUpdate(0n)).to.be.revertedWithCustomError(
        d.run,
        "TrainingRunIndexOutOfRange",
      );
    });
  });

  describe("the implementation", function () {
    it("cannot be initialized, and a run cannot be initialized twice", async function () {
      const d = await networkHelpers.loadFixture(runFixture);
      for (const target of [d.implementation, d.run]) {
        await expect(
          target.initialize(TEST_RUN_PARAMS, INITIAL_MODEL_HASH, "bafy", d.outsider.address),
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
