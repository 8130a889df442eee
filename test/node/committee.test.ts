import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import * as actions from "../../node/src/chain/actions/index.js";
import type { SignerContext } from "../../node/src/chain/client.js";
import { commitmentOf, voteCommitmentOf } from "../../node/src/chain/commitment.js";
import { ChainHistory, roundAssignment, voteScores } from "../../node/src/history/index.js";
import {
  assignmentsBySeat,
  drawCommittee,
  heldSeats,
  scorersOfNode,
  seatOf,
  voteShape,
} from "../../node/src/run/committee.js";
import { committeeWork } from "../../node/src/run/committee-work.js";
import { readRoundView } from "../../node/src/run/round-view.js";
import { startTestNetwork, TEST_RUN_PARAMS, type TestNetwork } from "./helpers/network.js";

/**
 * node/src/run/committee.ts mirrors the run contract's draws: the trainer seat lottery
 * (seatDraw), the stake-weighted committee (committee) and the assignment of revealed updates to
 * seats (assignedTo, scorersOf). Checked here against the contract's views on anvil, with a vote
 * committed with voteCommitmentOf and revealed in the shape voteShape gives (the contract
 * recomputes the commitment at revealVote), and against the records the audit reads.
 */

const PHASE = 3601;

describe("committee mirror", () => {
  it("P8: a committee member scores about n·k/C updates per seat, not n (C = 16, k = 3)", () => {
    const rows = committeeWork({ rounds: 8 });
    assert.deepEqual(rows.map((r) => r.trainers), [64, 256, 1024]);
    for (const r of rows) {
      assert.equal(r.expectedPerSeat, (r.trainers * 3) / 16);
      // 16 validators of equal stake hold about one seat each (with replacement: some two).
      assert.ok(r.seatsMean >= 1 && r.seatsMean < 2, `seats ${r.seatsMean}`);
      assert.ok(r.assignedMean < r.trainers / 2, `${r.trainers} trainers: ${r.assignedMean} assigned`);
      assert.ok(Math.abs(r.assignedMean / r.seatsMean - r.expectedPerSeat) < 0.25 * r.expectedPerSeat);
      // Lagged attestation: its vote attests M_r, so this is all of its scoring (no accept test on the rest).
      assert.equal(r.voteScoringMs, 0, "counts only (no msPerUpdate)");
      assert.equal(r.wholeRound, r.trainers);
      assert.ok(r.assignedMax < r.trainers, `${r.trainers} trainers: the busiest member scored ${r.assignedMax}`);
    }
  });

  it("draws seats in proportion to stake and assigns every update to exactly k seats", () => {
    const rand: Hex = `0x${"42".repeat(32)}`;
    const a = "0x00000000000000000000000000000000000000a1" as Address;
    const b = "0x00000000000000000000000000000000000000b2" as Address;
    const stale = "0x00000000000000000000000000000000000000c3" as Address;
    const committee = drawCommittee(rand, [{ validator: a, lock: 1n }, { validator: stale, lock: 5n }, { validator: b, lock: 3n }], 1n, 16);
    assert.equal(committee.length, 16);
    assert.ok(committee.every((h) => h === a || h === stale || h === b));
    const committee2 = drawCommittee(rand, [{ validator: a, lock: 1n }, { validator: stale, lock: 0n }, { validator: b, lock: 3n }], 1n, 400);
    assert.ok(!committee2.includes(stale), "a lock below the minimum holds no seat");
    const share = committee2.filter((h) => h === b).length / committee2.length;
    assert.ok(share > 0.65 && share < 0.85, `b holds 3/4 of the stake and ${share} of the seats`);
    const trainers = Array.from({ length: 40 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}` as Address);
    const bySeat = assignmentsBySeat(rand, trainers, 16, 3);
    trainers.forEach((t, i) => {
      const seats = scorersOfNode(rand, t, 16, 3);
      assert.equal(new Set(seats).size, 3);
      assert.deepEqual(bySeat.flatMap((indices, seat) => (indices.includes(i) ? [seat] : [])), [...seats].sort((x, y) => x - y));
    });
    const { seatLengths, scores } = voteShape([1, 4], (seat) => bySeat[seat] ?? [], (i) => i * 10);
    assert.deepEqual(seatLengths, [bySeat[1]?.length, bySeat[4]?.length]);
    assert.deepEqual(scores, [...(bySeat[1] ?? []), ...(bySeat[4] ?? [])].map((i) => i * 10));
  });
});

describe("committee mirror against the contract's views (anvil)", { timeout: 300_000 }, () => {
  let net: TestNetwork;
  let observer: SignerContext;
  const validators: SignerContext[] = [];
  const trainers: SignerContext[] = [];

  const settle = async (): Promise<void> => {
    const view = await readRoundView(observer);
    for (let i = 0; i < 20; i++) {
      const sent = await actions.finalizeRound(observer, { round: view.round, maxItems: 2 });
      if (sent.done) return;
    }
    assert.fail(`round ${view.round} did not settle in 20 calls`);
  };

  before(async () => {
    net = await startTestNetwork({
      port: 18613,
      fund: 6,
      stake: parseEther("5000"),
      runParams: { ...TEST_RUN_PARAMS, committeeSize: 8, scorersPerUpdate: 3, trainerSeats: 2 },
    });
    observer = await net.signer(0);
    for (const [i, amount] of [[1, "1000"], [2, "3000"]] as const) {
      const v = await net.signer(i);
      await actions.join(v, { role: "validator", amount: parseEther(amount) });
      validators.push(v);
    }
    for (const [i, amount] of [[3, "100"], [4, "400"], [5, "150"]] as const) {
      const t = await net.signer(i);
      await actions.join(t, { role: "trainer", amount: parseEther(amount) });
      trainers.push(t);
    }
  });

  after(async () => {
    await net?.stop();
  });

  it("seatDraw, committee, assignedTo and scorersOf equal the TS mirror; a vote built with it reveals", async () => {
    // Round 1: the registration round (the locks count from round 2).
    for (const t of trainers) {
      const [seat] = await observer.contracts.run.read.seatDraw([t.account.address]);
      assert.equal(seat, false);
    }
    for (let p = 0; p < 4; p++) await net.advance(PHASE);
    await settle();

    const info = await observer.contracts.run.read.currentRound();
    assert.equal(info.round, 2n);
    const params = await observer.contracts.run.read.params();
    const seated: SignerContext[] = [];
    for (const t of trainers) {
      const [seat, draw, threshold] = await observer.contracts.run.read.seatDraw([t.account.address]);
      const member = await observer.contracts.run.read.memberOf([t.account.address]);
      const mirror = seatOf({
        seatRandomness: info.seatRandomness,
        node: t.account.address,
        lock: member.lock,
        eligibleFrom: member.eligibleFrom,
        round: info.round,
        minTrainerStake: params.minTrainerStake,
        trainerSeats: BigInt(params.trainerSeats),
        seatTotal: info.seatTotal,
      });
      assert.deepEqual([mirror.seat, mirror.draw, mirror.threshold], [seat, draw, threshold], `seatDraw of ${t.account.address}`);
      if (seat) seated.push(t);
    }
    assert.ok(seated.length > 0, "some trainer holds a seat (N = 2 of 3 trainers)");

    const salt = (who: Address): Hex => keccak256(toHex(`committee-test:${who}`));
    const update = (who: Address) => ({ cid: `bafkrei${who.slice(2, 30).toLowerCase()}`, contentHash: keccak256(toHex(who)), samples: 64 });
    for (const t of seated) {
      const u = update(t.account.address);
      await actions.commit(t, { round: 2, commitment: commitmentOf({ runId: 1, round: 2, node: t.account.address, ...u, salt: salt(t.account.address) }) });
    }
    await net.advance(PHASE);
    for (const t of seated) await actions.reveal(t, { round: 2, ...update(t.account.address), salt: salt(t.account.address) });
    await net.advance(PHASE);
    let view = await readRoundView(observer);
    if (!view.randomnessReady) {
      await actions.armChallenge(observer, { round: 2 });
      await net.advance(1);
      view = await readRoundView(observer);
    }
    assert.ok(view.randomnessReady, "the randomness is readable a block after the challenge");

    const committee = await observer.contracts.run.read.committee();
    const [set, locks] = await observer.contracts.run.read.validatorSet();
    const mirrored = drawCommittee(view.randomness, set.map((validator, i) => ({ validator, lock: locks[i] as bigint })), params.minValidatorStake, params.committeeSize);
    assert.deepEqual(committee.map((a) => a.toLowerCase()), mirrored.map((a) => a.toLowerCase()));
    const revealers = seated.map((t) => t.account.address);
    const bySeat = assignmentsBySeat(view.randomness, revealers, params.committeeSize, params.scorersPerUpdate);
    for (let seat = 0; seat < params.committeeSize; seat++) {
      const onChain = await observer.contracts.run.read.assignedTo([BigInt(seat)]);
      assert.deepEqual(onChain.map(Number), bySeat[seat], `assignedTo(${seat})`);
    }
    for (const [i, node] of revealers.entries()) {
      const onChain = await observer.contracts.run.read.scorersOf([BigInt(i)]);
      assert.deepEqual(onChain.map(Number), scorersOfNode(view.randomness, node, params.committeeSize, params.scorersPerUpdate));
    }

    // Every committee member votes through the mirror's shape and commitment; the reveal checks both.
    const members = validators.filter((v) => heldSeats(committee, v.account.address).length > 0);
    assert.ok(members.length > 0);
    const votes = new Map<string, { seatLengths: number[]; scores: number[]; salt: Hex }>();
    for (const v of members) {
      const seats = heldSeats(committee, v.account.address);
      const shape = voteShape(seats, (seat) => bySeat[seat] ?? [], (index) => 100_000 + index);
      const vote = { ...shape, salt: keccak256(toHex(`vote:${v.account.address}`)) };
      votes.set(v.account.address, vote);
      await actions.commitVote(v, {
        round: 2,
        commitment: voteCommitmentOf({ runId: 1, round: 2, validator: v.account.address, ...vote, modelHash: view.modelHash, evalLoss: 1_000_000_000n }),
      });
    }
    await net.advance(PHASE);
    for (const v of members) {
      const vote = votes.get(v.account.address) as { seatLengths: number[]; scores: number[]; salt: Hex };
      await actions.revealVote(v, { round: 2, ...vote, modelHash: view.modelHash, evalLoss: 1_000_000_000n });
    }
    await net.advance(PHASE);
    await settle();

    // The records recompute the same assignment and read each vote's scores per update.
    const history = new ChainHistory({ client: observer.publicClient, deployment: net.deployment });
    await history.sync();
    const run = history.run(1);
    const round = run.rounds["2"];
    assert.ok(round);
    assert.deepEqual(round.committee?.map((a) => a.toLowerCase()), committee.map((a) => a.toLowerCase()));
    const assignment = roundAssignment(run, round);
    assert.deepEqual(assignment?.bySeat, bySeat);
    for (const vote of round.votes) {
      for (const s of voteScores(assignment, vote)) assert.equal(s.scorePpm, 100_000 + s.index);
    }
    assert.equal(round.outcomes.length, seated.length);
    assert.ok(round.outcomes.every((o) => o.accepted && o.medianScore === 100_000 + o.index));
  });
});
