import { strict as assert } from "node:assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { findChromium } from "../../../scripts/ensure-chromium.js";
import { createTestClient, http, keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import * as actions from "../../../node/src/chain/actions/index.js";
import type { SignerContext } from "../../../node/src/chain/client.js";
import { commitmentOf, voteCommitmentOf } from "../../../node/src/chain/commitment.js";
import { SlashReason, type VoteTypeName } from "../../../node/src/chain/contract-enums.js";
import { contentHash } from "../../../node/src/codec/index.js";
import { configSchema } from "../../../node/src/config/config.js";
import { startNode, type RunningNode } from "../../../node/src/daemon/daemon.js";
import { readRoundView, type RoundView } from "../../../node/src/run/round-view.js";
import { heldSeats, voteShape } from "../../../node/src/run/committee.js";
import { validatorRole } from "../../../node/src/daemon/validator.js";
import {
  paramsProposal,
  proposalArrays,
  descriptionHash,
  reverseSlashProposal,
  applyRunParamChanges,
  type ProposalDraft,
  type RunParams,
} from "../../../node/src/governance/index.js";
import { createLogger } from "../../../node/src/observe/logger.js";
import { computeCid, HeliaBlobStore } from "../../../node/src/storage/index.js";
import { SeededRandom } from "../fixtures/prng.js";
import { startTestNetwork, type TestNetwork } from "./network.js";

/**
 * A local network with two finished training rounds (rounds v2), shared by the audit and
 * explorer tests: anvil with the system deployed, real Helia peers, real tfjs training and a real
 * validator daemon (the only validator: it holds every committee seat).
 *
 *   round 1: the registration round — everyone joins in it, so no trainer holds a seat yet
 *   round 2: honest A, honest B (daemons) · liar (reveals a content hash that is not the hash of
 *            the bytes at its CID) · ghost (reveals the CID of bytes nobody stores)
 *   round 3: honest A, honest B · liar again · ghost commits and never reveals
 *   round 4 (only with `lazyValidator`): honest A, honest B · a second, lazy validator joins the
 *            committee and reveals a vote that attests round 4's RoundOpened model hash instead
 *            of computing one (P9: `audit --rescore` must name it, finding wrong-model-hash)
 *   then:    honest A claims its rewards, honest B requests an unstake, governance reverses the
 *            ghost's no-reveal slash (an appeal: proposed, voted for / against / abstain, queued,
 *            executed), and a second proposal (a parameter change) stays open with one vote.
 *
 * The liar, the ghost and the lazy validator are built with the chain client directly (no daemon
 * change): they hold stake, join, commit and reveal like anyone else. The liar and the ghost lock
 * 3× the trainer minimum, so the 10 % InvalidUpdate slash of round 2 leaves them a seat in
 * round 3 (a lock below the minimum is stale: no seat, P5). Chain time moves only when every
 * node has acted, so nothing depends on this machine's speed.
 */

const PHASE = 3601;

/** Chromium as scripts/ensure-chromium.ts finds it (run before the node tests; it installs Debian's when missing). */
export const CHROMIUM_PATH = findChromium() ?? "/usr/bin/chromium";

/** Headless chromium for the explorer's browser tests: no sandbox (CI containers), nothing fetched from outside. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}
/** The validator gives up on an update after this long: the ghost's CID costs it this once. */
const VALIDATOR_FETCH_TIMEOUT_MS = 4_000;

export interface FinishedNetwork {
  net: TestNetwork;
  /** Folder holding anvil.json, for `--deployments`. */
  deploymentsDir: string;
  rpcUrl: string;
  runAddress: Address;
  validator: Address;
  honest: [Address, Address];
  liar: Address;
  ghost: Address;
  /** IPFS peers that hold the round's updates (for `--peer` and the explorer's peer). */
  peers: string[];
  /** The lazy validator of round 4 (only with `lazyValidator`). */
  lazyValidator: Address | null;
  /** The rounds with trainers: [2, 3], and 4 with `lazyValidator`. */
  trainingRounds: number[];
  /** What the liar revealed per round: its CID, the hash it claimed and the hash of the bytes really there. */
  liarReveals: Map<number, { cid: string; claimed: Hex; actual: Hex }>;
  /** The CID the ghost revealed in round 2 (no peer holds its bytes). */
  ghostCid: string;
  /** The ghost's no-reveal slash that governance reversed. */
  reversedSlashId: bigint;
  /** The proposal left open. */
  openProposalId: bigint;
  stop(): Promise<void>;
}

/** The registration round and two (three) training rounds played to the end on anvil at `port`; see the file comment. */
export async function startFinishedNetwork(options: { port: number; lazyValidator?: boolean }): Promise<FinishedNetwork> {
  const net = await startTestNetwork({ port: options.port, fund: 5 });
  const logger = createLogger({ level: process.env.FIXTURE_LOG === "1" ? "info" : "error" });
  const stores: HeliaBlobStore[] = [];
  const dirs: string[] = [];
  const daemons: RunningNode[] = [];
  const runAddress = net.deployment.runs[0]?.address as Address;

  const openStore = async (name: string): Promise<HeliaBlobStore> => {
    const dir = await mkdtemp(join(tmpdir(), `protolearn-fixture-${name}-`));
    dirs.push(dir);
    const store = new HeliaBlobStore({ dataDir: join(dir, "ipfs") });
    await store.start();
    for (const other of stores) await store.dial(other.multiaddrs()[0] as string);
    stores.push(store);
    return store;
  };

  const launch = async (
    accountIndex: number,
    role: "trainer" | "validator",
  ): Promise<RunningNode> => {
    const store = await openStore(`${role}${accountIndex}`);
    const dataDir = dirs.at(-1) as string;
    const config = configSchema.parse({
      network: "anvil",
      rpcUrl: net.chain.rpcUrl,
      role,
      dataDir,
      keeper: role === "validator",
      metrics: { enabled: false },
      fetchTimeoutMs: role === "validator" ? VALIDATOR_FETCH_TIMEOUT_MS : 20_000,
    });
    const node = await startNode({
      config,
      account: net.accounts[accountIndex] as NonNullable<(typeof net.accounts)[number]>,
      deployment: net.deployment,
      logger: logger.child(`${role}${accountIndex}`),
      store,
      tickMs: 150,
      validator: validatorRole,
    });
    daemons.push(node);
    return node;
  };

  try {
    const observer = await net.signer(0);
    const validator = await launch(4, "validator");
    const honestA = await launch(1, "trainer");
    const honestB = await launch(2, "trainer");
    const liar = await net.signer(3);
    const ghost = await net.signer(5);
    const liarStore = await openStore("liar");
    const { minTrainerStake } = await observer.contracts.run.read.params();
    for (const who of [liar, ghost]) {
      await actions.join(who, { role: "trainer", amount: 3n * minTrainerStake, label: "join" });
    }

    const waitFor = async (
      what: string,
      predicate: (v: RoundView) => boolean,
    ): Promise<RoundView> => {
      // Generous for a loaded 2-core machine; a wait that never ends must fail, not hang.
      const giveUpAt = Date.now() + 180_000;
      for (;;) {
        const view = await readRoundView(observer);
        if (predicate(view)) return view;
        if (Date.now() > giveUpAt) assert.fail(`gave up waiting for ${what}: round ${view.round}, phase ${view.phase}, ${view.commits} commits, ${view.reveals} reveals, ${view.votes} votes, ${view.voteReveals} vote reveals`);
        for (const d of daemons) {
          await Promise.race([
            d.done.then(() => assert.fail(`a node stopped while waiting for ${what}`)),
            Promise.resolve(),
          ]);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    };

    const salt = (who: Address, round: number): Hex =>
      keccak256(toHex(`fixture-salt:${who}:${round}`));
    const commit = async (
      who: SignerContext,
      round: number,
      cid: string,
      hash: Hex,
      samples: number,
    ): Promise<void> => {
      const commitment = commitmentOf({
        runId: 1,
        round,
        node: who.account.address,
        cid,
        contentHash: hash,
        samples,
        salt: salt(who.account.address, round),
      });
      await actions.commit(who, { round, commitment, label: "commit" });
    };
    const reveal = async (
      who: SignerContext,
      round: number,
      cid: string,
      hash: Hex,
      samples: number,
    ): Promise<void> => {
      await actions.reveal(who, {
        round,
        cid,
        contentHash: hash,
        samples,
        salt: salt(who.account.address, round),
        label: "reveal",
      });
    };

    // Round 1: the registration round (every lock was made in it, so no trainer holds a seat).
    await waitFor("round 1", (v) => v.round === 1);
    for (let phase = 0; phase < 4; phase++) await net.advance(PHASE);
    await waitFor("round 2", (v) => v.round === 2);

    const liarReveals = new Map<number, { cid: string; claimed: Hex; actual: Hex }>();
    let ghostCid = "";
    const lastRound = options.lazyValidator === true ? 4 : 3;
    let lazyAddress: Address | null = null;
    for (const round of [2, 3]) {
      await waitFor(`round ${round}`, (v) => v.round === round);
      // The liar stores some bytes and commits to the hash of other bytes.
      const stored = new SeededRandom(1000 + round).bytes(4096);
      const claimedBytes = new SeededRandom(2000 + round).bytes(4096);
      const liarCid = await liarStore.put(stored);
      const claimed = contentHash(claimedBytes);
      liarReveals.set(round, { cid: liarCid, claimed, actual: contentHash(stored) });
      await commit(liar, round, liarCid, claimed, 192);
      // The ghost reveals (round 2) or only commits (round 3) the CID of bytes it never stores.
      const phantom = new SeededRandom(3000 + round).bytes(2048);
      const phantomCid = await computeCid(phantom, 0);
      if (round === 2) ghostCid = phantomCid;
      await commit(ghost, round, phantomCid, contentHash(phantom), 192);

      await waitFor(`round ${round} commits`, (v) => v.commits === 4);
      await net.advance(PHASE);
      await reveal(liar, round, liarCid, claimed, 192);
      if (round === 2) await reveal(ghost, round, phantomCid, contentHash(phantom), 192);
      await waitFor(`round ${round} reveals`, (v) => v.reveals === (round === 2 ? 4 : 3));
      await net.advance(PHASE);
      await waitFor(`round ${round} votes`, (v) => v.votes === 1);
      await net.advance(PHASE);
      await waitFor(`round ${round} vote reveals`, (v) => v.voteReveals === 1);
      // Stop the trainers before the last finalize, so that they never start the next round.
      if (round === lastRound) for (const d of [honestA, honestB]) await d.stop();
      await net.advance(PHASE);
      await waitFor(`round ${round + 1}`, (v) => v.round === round + 1);
    }
    if (options.lazyValidator === true) {
      lazyAddress = await lazyValidatorRound(net, waitFor, async () => {
        for (const d of [honestA, honestB]) await d.stop();
      });
    }
    await validator.stop();

    const afterRounds = await postRoundActivity(net, observer, runAddress, ghost.account.address);
    const addresses = net.accounts.map((a) => a.address);
    const deploymentsDir = await deploymentsDirOf(net);
    dirs.push(deploymentsDir);
    return {
      net,
      deploymentsDir,
      rpcUrl: net.chain.rpcUrl,
      runAddress,
      validator: addresses[4] as Address,
      honest: [addresses[1] as Address, addresses[2] as Address],
      liar: addresses[3] as Address,
      ghost: addresses[5] as Address,
      lazyValidator: lazyAddress,
      trainingRounds: lastRound === 4 ? [2, 3, 4] : [2, 3],
      peers: stores.map((s) => s.multiaddrs()[0] as string),
      liarReveals,
      ghostCid,
      ...afterRounds,
      stop: async () => {
        for (const d of daemons) await d.stop();
        for (const s of stores) await s.stop();
        await net.stop();
        for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const d of daemons) await d.stop();
    for (const s of stores) await s.stop();
    await net.stop();
    throw err;
  }
}

/** A folder holding anvil.json, for the CLI's --deployments. */
async function deploymentsDirOf(net: TestNetwork): Promise<string> {
  // startTestNetwork keeps the deployment in memory only; write it where the CLI can read it.
  const dir = await mkdtemp(join(tmpdir(), "protolearn-fixture-deployments-"));
  await writeFile(join(dir, "anvil.json"), JSON.stringify(net.deployment, null, 2));
  return dir;
}

/** Claims, an unstake, an appeal that governance grants, and an open proposal. */
async function postRoundActivity(
  net: TestNetwork,
  deployer: SignerContext,
  runAddress: Address,
  ghost: Address,
): Promise<{ reversedSlashId: bigint; openProposalId: bigint }> {
  const testClient = createTestClient({ mode: "anvil", transport: http(net.chain.rpcUrl) });
  const honestA = await net.signer(1);
  const honestB = await net.signer(2);
  const voterAgainst = await net.signer(6);
  await actions.claim(honestA, { label: "claim" });
  await actions.requestUnstake(honestB, { amount: parseEther("300"), label: "unstake" });

  // Voting power: the deployer's genesis tokens pass the quorum; two others vote against / abstain.
  for (const [to, amount] of [
    [voterAgainst.account.address, parseEther("100000")],
    [honestA.account.address, parseEther("50000")],
  ] as const) {
    await actions.transfer(deployer, { to, amount, label: "fund voter" });
  }
  for (const who of [deployer, voterAgainst, honestA]) {
    await actions.delegate(who, { label: "delegate" });
  }

  const slashes = await deployer.publicClient.getContractEvents({
    address: net.deployment.contracts.StakeManager,
    abi: deployer.contracts.stakeManager.abi,
    eventName: "Slashed",
    args: { account: ghost },
    fromBlock: BigInt(net.deployment.deploymentBlock),
    strict: true,
  });
  const noReveal = slashes.find((s) => s.args.reason === SlashReason.NoReveal);
  assert.ok(noReveal, "the ghost was slashed for not revealing in round 2");
  const reversedSlashId = noReveal.args.slashId;

  const propose = async (draft: ProposalDraft): Promise<bigint> => {
    const { proposalId } = await actions.propose(deployer, {
      ...proposalArrays(draft.actions),
      description: draft.description,
      label: "propose",
    });
    await testClient.mine({ blocks: 2 });
    return proposalId;
  };
  const vote = async (
    who: SignerContext,
    id: bigint,
    support: VoteTypeName,
    reason: string,
  ): Promise<void> => {
    await actions.castVote(who, { proposalId: id, support, reason, label: "vote" });
  };

  const appeal = reverseSlashProposal({
    stakeManager: net.deployment.contracts.StakeManager,
    slashId: reversedSlashId,
    description: `Appeal: reverse slash #${reversedSlashId} (the ghost's IPFS node was down in round 2)`,
  });
  const appealId = await propose(appeal);
  await vote(deployer, appealId, "For", "the outage is documented");
  await vote(voterAgainst, appealId, "Against", "a commitment is a commitment");
  await vote(honestA, appealId, "Abstain", "");
  await testClient.mine({ blocks: 51 });
  const arrays = proposalArrays(appeal.actions);
  const hash = descriptionHash(appeal.description);
  await actions.queue(deployer, { ...arrays, descriptionHash: hash, label: "queue" });
  await net.advance(3601);
  await actions.execute(deployer, { ...arrays, descriptionHash: hash, label: "execute" });

  const current: RunParams = await deployer.contracts.run.read.params();
  const { next, changes } = applyRunParamChanges(current, ["innerSteps=8"]);
  const open = await propose(paramsProposal({ run: runAddress, runId: 1, next, changes }));
  await vote(voterAgainst, open, "For", "more steps per round");
  return { reversedSlashId, openProposalId: open };
}

/**
 * Round 4 with a second, lazy validator (account 7): it joins the validator set in round 4's
 * commit phase (a validator lock made before the commit deadline counts in that round's
 * committee), and in the score phase commits a vote for its seats without doing the work: every
 * assigned update scored 500,000 ppm and round 4's RoundOpened model hash attested as the
 * model, with a made-up held-out loss. With two validators of equal locks it holds about half of
 * the 16 seats, so the round usually ends without a 2/3 model majority; either way the audit
 * must name it (P9). Returns its address.
 */
async function lazyValidatorRound(
  net: TestNetwork,
  waitFor: (what: string, predicate: (v: RoundView) => boolean) => Promise<RoundView>,
  stopTrainers: () => Promise<void>,
): Promise<Address> {
  const deployer = await net.signer(0);
  const lazy = await net.signer(7);
  const { minValidatorStake } = await deployer.contracts.run.read.params();
  await actions.transfer(deployer, { to: lazy.account.address, amount: minValidatorStake, label: "fund lazy" });
  await actions.approve(lazy, { spender: net.deployment.contracts.StakeManager, amount: minValidatorStake, label: "approve" });
  await actions.stake(lazy, { amount: minValidatorStake, label: "stake" });
  await actions.join(lazy, { role: "validator", amount: minValidatorStake, label: "join" });

  await waitFor("round 4 commits", (v) => v.round === 4 && v.commits === 2);
  await net.advance(PHASE);
  await waitFor("round 4 reveals", (v) => v.reveals === 2);
  await net.advance(PHASE);
  const view = await waitFor("round 4 randomness", (v) => v.randomnessReady);
  const committee = await lazy.contracts.run.read.committee();
  const seats = heldSeats(committee, lazy.account.address);
  assert.ok(seats.length > 0, "the lazy validator holds a committee seat (16 seats drawn over two equal locks)");
  const assigned = new Map<number, number[]>();
  for (const seat of seats) {
    assigned.set(seat, (await lazy.contracts.run.read.assignedTo([BigInt(seat)])).map(Number));
  }
  const { seatLengths, scores } = voteShape(seats, (seat) => assigned.get(seat) ?? [], () => 500_000);
  const vote = {
    seatLengths,
    scores,
    modelHash: view.modelHash,
    evalLoss: 1_000_000_000n,
    salt: keccak256(toHex("lazy-salt")),
  };
  await actions.commitVote(lazy, {
    round: 4,
    commitment: voteCommitmentOf({ runId: 1, round: 4, validator: lazy.account.address, ...vote }),
    label: "commitVote",
  });
  await waitFor("round 4 votes", (v) => v.votes === 2);
  await net.advance(PHASE);
  await actions.revealVote(lazy, { round: 4, ...vote, label: "revealVote" });
  await waitFor("round 4 vote reveals", (v) => v.voteReveals === 2);
  await stopTrainers();
  await net.advance(PHASE);
  await waitFor("round 5", (v) => v.round === 5);
  return lazy.account.address;
}
