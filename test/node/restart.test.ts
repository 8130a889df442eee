import { strict as assert } from "node:assert";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { trainingRunAbi } from "../../node/src/chain/abis.js";
import { connectChain, type ChainContext } from "../../node/src/chain/client.js";
import { startDevnet, type Devnet } from "../../node/src/devnet/start-devnet.js";
import { readRoundView } from "../../node/src/run/round-view.js";
import { Conductor } from "../../node/src/devnet/conductor.js";
import { killNode, spawnNode, stopNode, type NodeProcess } from "../../node/src/devnet/node-process.js";
import { createLogger } from "../../node/src/observe/logger.js";
import { TEST_RUN_PARAMS } from "./helpers/network.js";

/**
 * Crash safety with real processes: a trainer is `kill -9`ed right after its commit is mined,
 * restarted from its data folder, and must reveal exactly what it committed — and never commit
 * twice; then the validator is `kill -9`ed right after its vote commit is mined and must reveal
 * exactly the vote it persisted. Round 1 is the registration round (the trainers' locks count
 * from round 2), so the crashes happen in round 2. Chain time is moved by the test, not the clock.
 */
describe("a trainer killed after its commit, a validator killed after its vote commit", { timeout: 600_000 }, () => {
  let devnet: Devnet;
  let observer: ChainContext;
  let conductor: Conductor;
  let dir: string;
  const running: NodeProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protolearn-restart-"));
    devnet = await startDevnet({
      chain: "anvil",
      port: 18590,
      accounts: 3,
      validators: 1,
      join: true,
      outDir: join(dir, "devnet"),
      deploymentsDir: join(dir, "deployments"),
      parameters: { runParams: TEST_RUN_PARAMS },
    });
    observer = await connectChain({ rpcUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, runId: 1 });
    conductor = new Conductor(observer, devnet.chain.rpcUrl, createLogger({ level: "warn" }), { patienceMs: 120_000, mode: "anvil" });
  });

  after(async () => {
    for (const node of running) await stopNode(node);
    await devnet?.stop();
  });

  function launch(index: number, peers: string[]): Promise<NodeProcess> {
    const account = devnet.accounts.find((a) => a.index === index);
    assert.ok(account);
    return spawnNode({
      name: `node-${index}`,
      address: account.address,
      configPath: account.configPath,
      password: devnet.password,
      logFile: join(dir, `node-${index}.log`),
      peers,
      keeper: account.role === "validator",
      env: { PROTOLEARN_DEPLOYMENTS: join(dir, "deployments") },
    });
  }

  it("each reveals what it committed after a restart and the round is accepted", async () => {
    let validator = await launch(1, []);
    running.push(validator);
    const honest = await launch(2, [validator.multiaddr]);
    running.push(honest);
    let victim = await launch(3, [validator.multiaddr, honest.multiaddr]);
    running.push(victim);
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
    running.push(victim);
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
    running.push(validator);
    const voteRevealed = await validator.waitForEvent((e) => e.event === "vote revealed" && e.round === 2);
    assert.equal(voteRevealed.modelHash, voteCommitted.modelHash, "it revealed the vote it persisted before committing");
    assert.ok(!validator.events.some((e) => e.event === "vote committed" && e.round === 2), "the restarted validator did not commit a second vote");
    const unveiling = await readRoundView(observer);
    assert.equal(unveiling.voteReveals, 1);
    await conductor.warp(unveiling.voteRevealDeadline - unveiling.now + 1n);
    await validator.waitForEvent((e) => e.event === "finalized" && e.round === 2);

    const scored = await observer.publicClient.getContractEvents({
      address: observer.contracts.run.address,
      abi: trainingRunAbi,
      eventName: "UpdateScored",
      args: { runId: 1n, round: 2n },
      fromBlock: BigInt(devnet.deployment.deploymentBlock),
      strict: true,
    });
    const victimAddress = devnet.accounts.find((a) => a.index === 3)?.address.toLowerCase();
    const outcome = scored.find((e) => e.args.node.toLowerCase() === victimAddress);
    assert.equal(outcome?.args.accepted, true, "the restarted trainer's update was accepted");
    const commits = await observer.publicClient.getContractEvents({
      address: observer.contracts.run.address,
      abi: trainingRunAbi,
      eventName: "Committed",
      args: { runId: 1n, round: 2n },
      fromBlock: BigInt(devnet.deployment.deploymentBlock),
      strict: true,
    });
    assert.equal(commits.filter((e) => e.args.node.toLowerCase() === victimAddress).length, 1, "exactly one commit on chain");
  });
});
