import { strict as assert } from "node:assert";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Address, Hex } from "viem";
import { trainingRunAbi } from "../../node/src/chain/abis.js";
import type { SignerContext } from "../../node/src/chain/client.js";
import { configSchema } from "../../node/src/config/config.js";
import type { Adversary } from "../../node/src/daemon/adversary.js";
import { startNode, type RunningNode } from "../../node/src/daemon/daemon.js";
import { NodeState } from "../../node/src/sync/node-state.js";
import { readRoundView, type RoundView } from "../../node/src/run/round-view.js";
import { validatorRole } from "../../node/src/daemon/validator.js";
import { createLogger } from "../../node/src/observe/logger.js";
import { HeliaBlobStore } from "../../node/src/storage/index.js";
import { startTestNetwork, type TestNetwork } from "./helpers/network.js";

/**
 * The whole protocol on a real chain (anvil) with real Helia peers and real tfjs training:
 * 3 trainers (one sign-flipping ×10) and 1 validator. The test moves chain time to each
 * deadline once every node has acted, so nothing depends on how fast this machine is.
 */
const PHASE = 3601;

interface TestNode {
  node: RunningNode;
  store: HeliaBlobStore;
  dataDir: string;
  address: Address;
}

describe("end to end: trainers, validator, keeper on anvil + Helia", { timeout: 600_000 }, () => {
  let net: TestNetwork;
  let observer: SignerContext;
  const nodes: TestNode[] = [];
  const logger = createLogger({ level: process.env.E2E_LOG === "1" ? "info" : "warn" });

  async function launch(
    accountIndex: number,
    role: "trainer" | "validator",
    adversary?: Adversary,
    logLines?: string[],
  ): Promise<TestNode> {
    const dataDir = await mkdtemp(join(tmpdir(), `protolearn-e2e-${accountIndex}-`));
    const store = new HeliaBlobStore({ dataDir: join(dataDir, "ipfs") });
    await store.start();
    for (const other of nodes) await store.dial(other.store.multiaddrs()[0] as string);
    const config = configSchema.parse({
      network: "anvil",
      rpcUrl: net.chain.rpcUrl,
      role,
      dataDir,
      keeper: role === "validator",
      metrics: { enabled: false },
      fetchTimeoutMs: 20_000,
    });
    const account = net.accounts[accountIndex];
    assert.ok(account);
    const node = await startNode({
      config,
      account,
      deployment: net.deployment,
      logger: logLines ? createLogger({ level: "info", format: "json", write: (l) => logLines.push(l) }) : logger.child(`${role}${accountIndex}`),
      store,
      tickMs: 150,
      validator: validatorRole,
      ...(adversary ? { adversary } : {}),
    });
    const entry = { node, store, dataDir, address: account.address };
    nodes.push(entry);
    return entry;
  }

  async function waitFor(what: string, predicate: (v: RoundView) => boolean): Promise<RoundView> {
    // Generous for a loaded 2-core machine; a wait that never ends must fail, not hang the suite.
    const giveUpAt = Date.now() + 180_000;
    for (;;) {
      const view = await readRoundView(observer);
      if (predicate(view)) return view;
      if (Date.now() > giveUpAt) assert.fail(`gave up waiting for ${what}: round ${view.round}, phase ${view.phase}, ${view.commits} commits, ${view.reveals} reveals, ${view.votes} votes`);
      for (const n of nodes) {
        // A node whose loop died would make the wait hang: surface its error instead.
        await Promise.race([n.node.done.then(() => assert.fail(`a node stopped while waiting for ${what}`)), Promise.resolve()]);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Drives one round to settlement: commits → reveals → vote commits → vote reveals → next round. */
  async function playRound(round: number, trainers: number, validators: number): Promise<void> {
    await waitFor(`round ${round} commits`, (v) => v.round === round && v.commits === trainers);
    await net.advance(PHASE);
    await waitFor(`round ${round} reveals`, (v) => v.reveals === trainers);
    await net.advance(PHASE);
    if (trainers > 0) await waitFor(`round ${round} vote commits`, (v) => v.votes === validators);
    await net.advance(PHASE);
    if (trainers > 0) await waitFor(`round ${round} vote reveals`, (v) => v.voteReveals === validators);
    await net.advance(PHASE);
    await waitFor(`round ${round + 1}`, (v) => v.round === round + 1);
  }

  function eventQuery(round: number) {
    return {
      address: net.deployment.runs[0]?.address as Address,
      abi: trainingRunAbi,
      args: { runId: 1n, round: BigInt(round) },
      fromBlock: BigInt(net.deployment.deploymentBlock),
      strict: true,
    } as const;
  }
  const modelAgreed = (round: number) => observer.publicClient.getContractEvents({ ...eventQuery(round), eventName: "ModelAgreed" });
  const nodeSlashed = (round: number) => observer.publicClient.getContractEvents({ ...eventQuery(round), eventName: "NodeSlashed" });
  const updateScored = (round: number) => observer.publicClient.getContractEvents({ ...eventQuery(round), eventName: "UpdateScored" });

  async function heldHash(n: TestNode): Promise<{ round: number; hash: Hex } | undefined> {
    const state = await NodeState.open(n.dataDir, 1, n.address);
    const model = await state.loadModel();
    return model && { round: model.round, hash: model.hash };
  }

  before(async () => {
    net = await startTestNetwork({ port: 18581, fund: 6 });
    observer = await net.signer(0);
    await launch(4, "validator");
    await launch(1, "trainer");
    await launch(2, "trainer");
    await launch(3, "trainer", { strategy: "sign-flip", factor: 10 });
  });

  after(async () => {
    for (const n of nodes) await n.node.stop();
    for (const n of nodes) await n.store.stop();
    await net?.stop();
  });

  it("runs a registration round and two rounds: the honest updates are accepted and rewarded, the sign-flipper is slashed, every node holds the chain's model", async () => {
    const [validator, honestA, honestB, adversary] = nodes as [TestNode, TestNode, TestNode, TestNode];
    // Round 1: the trainers joined in it, so their locks count from round 2 (no seat, no commit).
    for (const n of [honestA, honestB, adversary]) {
      const [seat] = await observer.contracts.run.read.seatDraw([n.address]);
      assert.equal(seat, false, "no trainer holds a seat in the registration round");
    }
    await playRound(1, 0, 1);
    await playRound(2, 3, 1);
    // The sign-flipper's slash took its lock below minTrainerStake: a stale lock takes no seat (P5).
    const adversaryMember = await observer.contracts.run.read.memberOf([adversary.address]);
    const { minTrainerStake } = await observer.contracts.run.read.params();
    assert.ok(adversaryMember.lock < minTrainerStake, "the slash left the adversary's lock below the minimum");
    assert.equal((await observer.contracts.run.read.seatDraw([adversary.address]))[0], false);
    await playRound(3, 2, 1);
    // Trainers sync to round 4's model before they commit in it (the seatless one too).
    const round4 = await waitFor("round 4 commits", (v) => v.round === 4 && v.commits === 2);

    for (const round of [2, 3]) {
      const agreed = await modelAgreed(round);
      assert.equal(agreed.length, 1, `round ${round} reached model agreement`);
      assert.equal(agreed[0]?.args.acceptedUpdates, 2n);
      const scored = await updateScored(round);
      const byNode = new Map(scored.map((e) => [e.args.node.toLowerCase(), e.args]));
      assert.equal(byNode.get(honestA.address.toLowerCase())?.accepted, true);
      assert.equal(byNode.get(honestB.address.toLowerCase())?.accepted, true);
      const slashed = await nodeSlashed(round);
      if (round === 2) {
        assert.equal(byNode.get(adversary.address.toLowerCase())?.accepted, false);
        assert.equal(byNode.get(adversary.address.toLowerCase())?.medianScore, 0);
        assert.deepEqual(
          slashed.map((e) => [e.args.node, e.args.reason]),
          [[adversary.address, 1]],
          "only the adversary is slashed, for an invalid update (reason 1)",
        );
      } else {
        assert.equal(byNode.get(adversary.address.toLowerCase()), undefined, "the stale adversary did not commit");
        assert.deepEqual(slashed, []);
      }
    }

    // Lagged attestation (node/src/sync/model-chain.ts): ModelAgreed(r) attests M_r, the model
    // round r trained from. Round 1 failed (registration), so M_2 is the genesis model; round 2's
    // accepted set made M_3, round 3's made M_4, which every trainer holds before committing.
    const [agreed2, agreed3] = [(await modelAgreed(2))[0]?.args.modelHash, (await modelAgreed(3))[0]?.args.modelHash];
    const [initialized] = await observer.publicClient.getContractEvents({
      address: net.deployment.runs[0]?.address as Address,
      abi: trainingRunAbi,
      eventName: "RunInitialized",
      fromBlock: BigInt(net.deployment.deploymentBlock),
      strict: true,
    });
    assert.equal(agreed2, initialized?.args.initialModelHash, "round 2's committee attested M_2 = M_1 (genesis)");
    assert.notEqual(agreed3, agreed2, "round 2's accepted updates changed the model");
    assert.equal(round4.modelHash, agreed3, "RoundOpened(4) carries the last agreed hash, M_3");
    const m4 = await heldHash(honestA);
    assert.equal(m4?.round, 4);
    assert.notEqual(m4?.hash, agreed3, "M_4 is M_3 plus round 3's accepted updates");
    for (const trainer of [honestB, adversary]) {
      assert.deepEqual(await heldHash(trainer), m4);
    }
    const validatorModel = await heldHash(validator);
    assert.deepEqual(validatorModel, { round: 3, hash: agreed3 }, "the validator attested M_3 in round 3");

    const run = observer.contracts.run;
    assert.ok((await run.read.memberOf([honestA.address])).rewards > 0n);
    assert.ok((await run.read.memberOf([honestB.address])).rewards > 0n);
    assert.equal((await run.read.memberOf([adversary.address])).rewards, 0n);
    assert.ok((await run.read.memberOf([validator.address])).rewards > 0n);
  });

  it("lets a trainer that joins late start from the newest checkpoint and train on the chain's current model", async () => {
    const lines: string[] = [];
    const late = await launch(5, "trainer", undefined, lines);
    // It joins during round 4's commit phase, so its lock counts from round 5.
    await waitFor("late joiner joined", () => lines.some((l) => l.includes('"no seat: not eligible until round 5"')));
    const m4 = await heldHash(nodes[1] as TestNode);
    await playRound(4, 2, 1);
    assert.equal((await modelAgreed(4))[0]?.args.modelHash, m4?.hash, "round 4's committee attested the M_4 the trainers trained from");
    await waitFor("late joiner commits", (v) => v.round === 5 && v.commits === 3);
    const m5 = await heldHash(nodes[1] as TestNode);
    assert.equal(m5?.round, 5);
    assert.deepEqual(await heldHash(late), m5, "the late joiner holds the same M_5 as the other trainers");
    const events = lines.map((l) => JSON.parse(l) as { event: string; round?: number });
    const fromCheckpoint = events.find((e) => e.event === "model from checkpoint");
    // It syncs as soon as it joins (round 4, no seat yet): the newest checkpoint then is round 3's.
    assert.equal(fromCheckpoint?.round, 3, "it loaded the checkpoint of round 3 (announced by the validator)");
    assert.ok(!events.some((e) => e.event === "model genesis"), "it did not replay from genesis");
  });

  it("stops a node whose model disagrees with the chain's, and says why", async () => {
    const account = net.accounts[6];
    assert.ok(account);
    const dataDir = await mkdtemp(join(tmpdir(), "protolearn-e2e-diverged-"));
    const view = await readRoundView(observer);
    // A model for the last settled round that is not the one its committee agreed on.
    const state = await NodeState.open(dataDir, 1, account.address);
    const wrong = new Float32Array(203_530).fill(0.5);
    await state.saveModel({ round: view.round - 1, hash: `0x${"ab".repeat(32)}`, params: wrong, momentum: undefined });
    const store = new HeliaBlobStore({ dataDir: join(dataDir, "ipfs") });
    await store.start();
    try {
      const config = configSchema.parse({ network: "anvil", rpcUrl: net.chain.rpcUrl, role: "trainer", dataDir, keeper: false, metrics: { enabled: false } });
      const node = await startNode({ config, account, deployment: net.deployment, logger, store, tickMs: 150, validator: validatorRole });
      await assert.rejects(node.done, (err: unknown) => {
        assert.ok(err instanceof Error && err.name === "ModelDivergedError", String(err));
        assert.match(err.message, /computed M_\d+ = 0xabab.* but round \d+'s committee agreed on 0x/);
        return true;
      });
      await node.stop();
    } finally {
      await store.stop();
    }
  });
});
