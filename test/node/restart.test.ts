import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { killNode, type NodeProcess } from "../../node/src/devnet/node-process.js";
import { readRoundView } from "../../node/src/run/round-view.js";
import { startProcessDevnet, type ProcessDevnet } from "./helpers/process-devnet.js";

/**
 * Crash safety with real processes: a trainer is `kill -9`ed right after its commit is mined,
 * restarted from its data folder, and must reveal exactly what it committed — and never commit
 * twice; then the validator is `kill -9`ed right after its vote commit is mined and must reveal
 * exactly the vote it persisted. Round 1 is the registration round (the trainers' locks count
 * from round 2), so the crashes happen in round 2. Chain time is moved by the test, not the clock.
 */
describe("a trainer killed after its commit, a validator killed after its vote commit", { timeout: 600_000 }, () => {
  let net: ProcessDevnet;

  before(async () => {
    net = await startProcessDevnet({ name: "restart", port: 18590 });
  });

  after(async () => {
    await net?.stop();
  });

  const launch = (index: number, peers: string[]): Promise<NodeProcess> => net.launch(index, peers);

  it("each reveals what it committed after a restart and the round is accepted", async () => {
    const { devnet, observer, conductor } = net;
    let validator = await launch(1, []);
    const honest = await launch(2, [validator.multiaddr]);
    let victim = await launch(3, [validator.multiaddr, honest.multiaddr]);
    const trainers = devnet.accounts.filter((a) => a.role === "trainer").map((a) => a.address);
    const registration = await conductor.playRound({ trainers, validators: 1 });
    assert.equal(registration.round, 2, "round 1 (no eligible trainer) settled");

    // Kill the victim the moment its commit is mined.
    const committed = await victim.waitForEvent((e) => e.event === "committed" && e.round === 2);
    await killNode(victim);
    // The honest trainer commits too before the deadline moves (it may train after the victim).
    await honest.waitForEvent((e) => e.event === "committed" && e.round === 2);
    const view = await readRoundView(observer);
    assert.equal(view.phase, "commit");

    // Past the commit deadline, restart it from the same data folder.
    await conductor.warp(view.commitDeadline - view.now + 1n);
    victim = await launch(3, [validator.multiaddr, honest.multiaddr]);
    const revealed = await victim.waitForEvent((e) => e.event === "revealed" && e.round === 2);
    assert.equal(revealed.cid, committed.cid, "it revealed exactly the update it committed");
    assert.ok(!victim.events.some((e) => e.event === "committed" && e.round === 2), "the restarted node did not commit again");

    await honest.waitForEvent((e) => e.event === "revealed" && e.round === 2);
    const afterReveal = await readRoundView(observer);
    await conductor.warp(afterReveal.revealDeadline - afterReveal.now + 1n);
    // Kill the validator the moment its vote commit is mined; restart it in the vote-reveal phase.
    const voteCommitted = await validator.waitForEvent((e) => e.event === "vote committed" && e.round === 2);
    await killNode(validator);
    const scoring = await readRoundView(observer);
    assert.equal(scoring.votes, 1);
    await conductor.warp(scoring.scoreDeadline - scoring.now + 1n);
    validator = await launch(1, [honest.multiaddr, victim.multiaddr]);
    const voteRevealed = await validator.waitForEvent((e) => e.event === "vote revealed" && e.round === 2);
    assert.equal(voteRevealed.modelHash, voteCommitted.modelHash, "it revealed the vote it persisted before committing");
    assert.ok(!validator.events.some((e) => e.event === "vote committed" && e.round === 2), "the restarted validator did not commit a second vote");
    const unveiling = await readRoundView(observer);
    assert.equal(unveiling.voteReveals, 1);
    await conductor.warp(unveiling.voteRevealDeadline - unveiling.now + 1n);
    await validator.waitForEvent((e) => e.event === "finalized" && e.round === 2);

    const scored = await net.runEvents("UpdateScored", 2n);
    const victimAddress = devnet.accounts.find((a) => a.index === 3)?.address.toLowerCase();
    const outcome = scored.find((e) => e.args.node.toLowerCase() === victimAddress);
    assert.equal(outcome?.args.accepted, true, "the restarted trainer's update was accepted");
    const commits = await net.runEvents("Committed", 2n);
    assert.equal(commits.filter((e) => e.args.node.toLowerCase() === victimAddress).length, 1, "exactly one commit on chain");
  });
});
