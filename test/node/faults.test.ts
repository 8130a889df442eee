import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import type { Address } from "viem";
import { anvilReorg } from "../../node/src/devnet/anvil-reorg.js";
import { killNode, type NodeProcess } from "../../node/src/devnet/node-process.js";
import { startRpcProxy, type RpcProxy } from "../../node/src/devnet/rpc-proxy.js";
import { readRoundView, type RoundView } from "../../node/src/run/round-view.js";
import { startProcessDevnet, type ProcessDevnet } from "./helpers/process-devnet.js";

/**
 * Faults of issue 11 with real processes on anvil (one validator that is also the keeper, two
 * trainers; every node reaches the chain through a pass-through proxy that can go down):
 * - kill -9 of a trainer while it trains and right after its reveal, of the validator while it
 *   scores (before its vote commit) and right after its vote reveal, and of the keeper when the
 *   round is due: each restarts from its data folder (its IPFS peer too) and finishes the round;
 * - chain reorgs (anvil_reorg, dropped transactions not re-included) of depth 2 around the commits,
 *   3 around the reveals and 1 around the vote commit: each node notices that its transaction is
 *   no longer on chain and sends it again, and the final chain holds exactly one of each;
 * - a 30 s RPC outage in the next round's commit phase: the nodes back off, recover and make the
 *   round.
 * The kill right after a commit and right after a vote commit is test/node/restart.test.ts.
 * Chain time is moved by the test, not the clock. Round 1 is the registration round.
 */
describe("faults: kill -9 in each phase, reorgs, an RPC outage", { timeout: 900_000 }, () => {
  let net: ProcessDevnet;
  let proxy: RpcProxy;
  const nodes: Record<"v" | "a" | "b", NodeProcess> = {} as Record<"v" | "a" | "b", NodeProcess>;
  const INDEX = { v: 1, a: 2, b: 3 } as const;

  before(async () => {
    net = await startProcessDevnet({ name: "faults", port: 18610 });
    proxy = await startRpcProxy(net.devnet.chain.rpcUrl);
  });

  after(async () => {
    await net?.stop();
    await proxy?.close();
  });

  const addressOf = (who: "v" | "a" | "b"): Address => {
    const account = net.devnet.accounts.find((a) => a.index === INDEX[who]);
    assert.ok(account);
    return account.address;
  };

  /** Starts (or restarts) a node with the live others as IPFS peers, reaching the chain through the proxy. */
  async function launch(who: "v" | "a" | "b"): Promise<NodeProcess> {
    const peers = (Object.keys(nodes) as ("v" | "a" | "b")[])
      .filter((k) => k !== who && nodes[k].child.exitCode === null && nodes[k].child.signalCode === null)
      .map((k) => nodes[k].multiaddr);
    nodes[who] = await net.launch(INDEX[who], peers, { PROTOLEARN_RPC_URL: proxy.url });
    return nodes[who];
  }

  async function restart(who: "v" | "a" | "b"): Promise<NodeProcess> {
    await killNode(nodes[who]);
    return launch(who);
  }

  const reorg = (depth: number): Promise<void> => anvilReorg(net.devnet.chain.rpcUrl, depth);

  async function until(what: string, done: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const started = Date.now();
    while (!(await done())) {
      if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const member = (who: "v" | "a" | "b") => net.observer.contracts.run.read.memberOf([addressOf(who)]);
  const view = (): Promise<RoundView> => readRoundView(net.observer);

  /** How many `eventName` events of round `round` the final chain holds for `who`. */
  async function eventsOf(eventName: "Committed" | "Revealed" | "VoteCommitted" | "VoteRevealed", round: bigint, who: "v" | "a" | "b"): Promise<number> {
    const address = addressOf(who).toLowerCase();
    return (await net.runEvents(eventName, round)).filter((l) => {
      const args = l.args as { node?: string; validator?: string };
      return (args.node ?? args.validator ?? "").toLowerCase() === address;
    }).length;
  }

  it("round 2: a trainer killed while training restarts and commits once; a reorg of depth 2 drops the commits and both are sent again", async () => {
    await launch("v");
    await launch("a");
    await launch("b");
    const trainers = [addressOf("a"), addressOf("b")];
    const registration = await net.conductor.playRound({ trainers, validators: 1 });
    assert.equal(registration.round, 2);

    await nodes.a.waitForEvent((e) => e.event === "training" && e.round === 2);
    await restart("a");
    await nodes.a.waitForEvent((e) => e.event === "committed" && e.round === 2);
    await nodes.b.waitForEvent((e) => e.event === "committed" && e.round === 2);
    assert.equal(Number((await member("a")).activeRound), 2);
    await reorg(2);
    // both commits were in the last two blocks (nothing else is sent in the commit phase)
    assert.notEqual(Number((await member("b")).activeRound), 2, "the reorg dropped b's commit");
    await until("both commits are on chain again", async () => Number((await member("a")).activeRound) === 2 && Number((await member("b")).activeRound) === 2);
    assert.equal(await eventsOf("Committed", 2n, "a"), 1, "a committed exactly once");
    assert.equal(await eventsOf("Committed", 2n, "b"), 1, "b committed exactly once");
    const v = await view();
    assert.equal(v.phase, "commit");
    await net.conductor.warp(v.commitDeadline - v.now + 1n);
    // one empty block past the deadline, so that a reorg of depth 3 around the reveals (two
    // blocks) does not also take back the block that moved chain time past the commit deadline
    await net.conductor.mine(1);
  });

  it("round 2: a trainer killed right after its reveal does not reveal again; a reorg of depth 3 drops the reveals and both are sent again", async () => {
    const revealed = await nodes.a.waitForEvent((e) => e.event === "revealed" && e.round === 2);
    await restart("a");
    await nodes.b.waitForEvent((e) => e.event === "revealed" && e.round === 2);
    await until("both reveals are on chain", async () => Number((await member("a")).revealedRound) === 2 && Number((await member("b")).revealedRound) === 2);
    await reorg(3);
    assert.notEqual(Number((await member("a")).revealedRound), 2, "the reorg dropped a's reveal");
    await until("both reveals are on chain again", async () => Number((await member("a")).revealedRound) === 2 && Number((await member("b")).revealedRound) === 2);
    assert.equal(await eventsOf("Revealed", 2n, "a"), 1);
    assert.equal(await eventsOf("Revealed", 2n, "b"), 1);
    assert.ok(typeof revealed.cid === "string");
    const v = await view();
    assert.equal(v.reveals, 2);
    await net.conductor.warp(v.revealDeadline - v.now + 1n);
  });

  it("round 2: the validator killed while scoring restarts and commits its vote once; a reorg of depth 1 drops the vote commit and it is sent again; killed after its vote reveal it reveals nothing twice; the keeper killed when the round is due settles it after a restart", async () => {
    await nodes.v.waitForEvent((e) => e.event === "vote ready" && e.round === 2);
    await restart("v");
    await nodes.v.waitForEvent((e) => e.event === "vote committed" && e.round === 2);
    assert.equal(Number((await member("v")).activeRound), 2);
    await reorg(1);
    await until("the vote commit is on chain again", async () => Number((await member("v")).activeRound) === 2);
    assert.equal(await eventsOf("VoteCommitted", 2n, "v"), 1, "one vote commit");
    let v = await view();
    assert.equal(v.votes, 1);
    await net.conductor.warp(v.scoreDeadline - v.now + 1n);
    await nodes.v.waitForEvent((e) => e.event === "vote revealed" && e.round === 2);
    await restart("v");
    v = await view();
    assert.equal(v.voteReveals, 1);
    // the keeper is killed the moment the round is due, and restarted
    await net.conductor.warp(v.voteRevealDeadline - v.now + 1n);
    await restart("v");
    await until("round 2 is settled", async () => (await view()).round === 3, 180_000);
    assert.ok(!nodes.v.events.some((e) => e.event === "vote revealed" && e.round === 2), "the restarted validator did not reveal again");
    assert.equal(await eventsOf("VoteRevealed", 2n, "v"), 1);
    const scored = await net.runEvents("UpdateScored", 2n);
    assert.deepEqual(
      scored.map((e) => [e.args.node.toLowerCase(), e.args.accepted]).sort(),
      [addressOf("a"), addressOf("b")].map((a) => [a.toLowerCase(), true]).sort(),
      "both trainers' updates were accepted",
    );
    const agreed = await net.runEvents("ModelAgreed", 2n);
    assert.equal(agreed.length, 1);
  });

  it("round 3: a 30 s RPC outage in the commit phase: the nodes back off, recover and make the round", async () => {
    proxy.down();
    await new Promise((r) => setTimeout(r, 30_000));
    proxy.up();
    assert.ok(proxy.refused() > 0, "the nodes tried the endpoint during the outage");
    const next = await net.conductor.playRound({ trainers: [addressOf("a"), addressOf("b")], validators: 1 });
    assert.equal(next.round, 4, "round 3 settled");
    for (const who of ["v", "a", "b"] as const) {
      const failed = nodes[who].events.filter((e) => e.event === "tick failed; retrying" && typeof e.retryInMs === "number");
      assert.ok(failed.length > 0, `${who} saw the outage`);
      const waits = failed.map((e) => e.retryInMs as number);
      assert.ok(Math.max(...waits) > Math.min(...waits), `${who} backed off (${waits.join(", ")} ms)`);
      assert.ok(waits.every((w) => w <= 8_000), `${who} never waited more than 8 s`);
      assert.ok(nodes[who].events.some((e) => e.event === "recovered"), `${who} recovered`);
    }
    const scored = await net.runEvents("UpdateScored", 3n);
    assert.equal(scored.filter((e) => e.args.accepted).length, 2, "both trainers made round 3");
  });
});
