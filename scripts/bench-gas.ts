/**
 * Gas benchmark of the training-run contracts (protocol v2) on Hardhat's EDR chain (receipt gasUsed).
 *
 *   npm run bench:gas              # prints tables
 *   npm run bench:gas -- --json    # prints one JSON object (committed as deployments/gas-snapshot.json)
 *   npm run bench:gas -- --sizes 4,16   # only these trainer counts (default 4,16,64,256,1024)
 *
 * Each row deploys the system the way production does (node/src/deploy `deploySystem`, the
 * Ignition module with the default run parameters, except that the lottery expects as many
 * seats as there are trainers so that every trainer commits) on Hardhat's in-process chain and
 * sends every transaction through the node's own chain actions (node/src/chain/actions), so
 * what is measured is what a node pays. Every row has 8 validators and a committee of C = 16
 * seats with the default k. Round 1 is the registration round (no trainer is eligible yet);
 * round 2 is measured as "first" (fresh slots) and round 3 as "steady" (reused nonzero slots,
 * the state a long-running run is in). Settlement runs in batches of the keeper's default size.
 * Keys, updates and scores are deterministic, so the numbers are reproducible.
 */
import { parseArgs } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import {
  bytesToHex,
  custom,
  keccak256,
  parseEther,
  parseEventLogs,
  toBytes,
  type Address,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { privateKeyToAccount, type Account } from "viem/accounts";
import { DEFAULT_RUN_PARAMS } from "../ignition/modules/defaults.js";
import * as actions from "../node/src/chain/actions/index.js";
import { DEFAULT_FINALIZE_BATCH } from "../node/src/chain/actions/finalize-round.js";
import { connectSigner, type SignerContext } from "../node/src/chain/client.js";
import { commitmentOf, voteCommitmentOf } from "../node/src/chain/commitment.js";
import { loadDeployment } from "../node/src/chain/deployment.js";
import { deploySystem } from "../node/src/deploy/deploy-system.js";
import { devAccount } from "../node/src/devnet/dev-keys.js";
import { createRng } from "../node/src/random/rng.js";
import { assignmentsBySeat, heldSeats, voteShape } from "../node/src/run/committee.js";
import { committeeWorkReport, formatCommitteeWork } from "../node/src/run/committee-work.js";

const INTRINSIC = 21_000;
const DEFAULT_SIZES = [4, 16, 64, 256, 1024];
const VALIDATORS = 8;

/** EIP-7825: no transaction may use more gas than this (EDR enforces it). */
const TX_GAS_CAP = 16_777_216;

/** The targets of issue 9 (docs/contracts.md, "Gas"). */
const TARGETS = { finalizePerTrainer: 15_000, largestTx: TX_GAS_CAP, allInPerTrainer: 60_000 };

/** The model hash the validators attest. */
const AGREED_HASH = keccak256(toBytes("bench-gas: aggregated model"));

/** Stake each trainer and validator bonds; trainers lock the minimum, validators different amounts. */
const TRAINER_STAKE = parseEther("1000");
const VALIDATOR_STAKE = parseEther("100000");

/** A gas figure as the receipt reports it and without the 21,000 intrinsic transaction cost. */
interface Gas {
  gasUsed: number;
  exec: number;
}

/** Several transactions of one kind. */
interface GasStats {
  count: number;
  mean: number;
  min: number;
  max: number;
  total: number;
}

interface RoundGas {
  commit: GasStats;
  reveal: GasStats;
  voteCommit: GasStats;
  voteReveal: GasStats;
  /** the settlement transactions (finalizeRound batches) */
  settlement: GasStats;
  /** settlement gas / trainers */
  finalizePerTrainer: number;
  /** the round's largest single transaction */
  largestTx: number;
  /** commit + reveal + settlement / trainers: a trainer's own transactions and its share of the batches */
  allInPerTrainer: number;
  /** the same plus the committee's vote transactions / trainers */
  allInWithVotesPerTrainer: number;
}

interface RowResult {
  trainers: number;
  validators: number;
  committeeSize: number;
  scorersPerUpdate: number;
  /** updates a committee seat scored in the steady round (mean): P8 predicts n·k/C */
  scoredPerSeat: number;
  first: RoundGas;
  steady: RoundGas;
}

export interface GasSnapshot {
  chain: string;
  compiler: string;
  note: string;
  targets: typeof TARGETS;
  finalizeBatch: number;
  single: { stake: Gas; joinTrainer: Gas; joinValidator: Gas; raiseLock: Gas; claim: Gas; leave: Gas };
  rows: RowResult[];
  /** one settlement batch of 64 updates that all score 0 (64 slashes) */
  worstBatch: Gas & { slashes: number; txGasCap: number };
  /** P8, in process: a committee member's scoring work and time per round (node/src/run/committee-work.ts) */
  scoring: Awaited<ReturnType<typeof committeeWorkReport>>;
}

type EdrConnection = NetworkConnection & {
  networkHelpers: {
    setBalance(address: string, balance: bigint): Promise<void>;
    mine(blocks?: number): Promise<void>;
    time: { latest(): Promise<number>; increaseTo(timestamp: bigint): Promise<void> };
  };
};

interface Bench {
  connection: EdrConnection;
  deployer: SignerContext;
  trainers: SignerContext[];
  validators: SignerContext[];
  signer(account: Account): Promise<SignerContext>;
}

function gas(receipt: TransactionReceipt): Gas {
  const used = Number(receipt.gasUsed);
  return { gasUsed: used, exec: used - INTRINSIC };
}

function stats(receipts: TransactionReceipt[]): GasStats {
  const values = receipts.map((r) => Number(r.gasUsed));
  if (values.length === 0) return { count: 0, mean: 0, min: 0, max: 0, total: 0 };
  const total = values.reduce((a, b) => a + b, 0);
  return { count: values.length, mean: Math.round(total / values.length), min: Math.min(...values), max: Math.max(...values), total };
}

function benchAccount(label: string, i: number): Account {
  return privateKeyToAccount(keccak256(toBytes(`protolearn:${label}:${i}`)));
}

/** Deploys the system with `runParams` and funds, stakes and joins the bench's accounts. */
async function deployBench(
  connection: EdrConnection,
  runParams: typeof DEFAULT_RUN_PARAMS,
  options: { trainers: number; validators: number },
): Promise<Bench> {
  const outDir = await mkdtemp(join(tmpdir(), "protolearn-bench-gas-"));
  const record = await deploySystem({
    connection,
    networkName: "hardhat",
    outDir,
    parameters: { runParams, votingPeriod: 5n, timelockDelay: 60n },
  });
  const deployment = await loadDeployment(record.network, outDir);
  await rm(outDir, { recursive: true, force: true });
  const signer = (account: Account) =>
    connectSigner({
      rpcUrl: "hardhat in-process EDR",
      transport: custom(connection.provider),
      pollingIntervalMs: 5,
      deployment,
      runId: 1,
      account,
    });
  const deployer = await signer(devAccount(0));
  const bench: Bench = { connection, deployer, trainers: [], validators: [], signer };
  bench.trainers = await fundedSigners(bench, "trainer", options.trainers, TRAINER_STAKE);
  bench.validators = await fundedSigners(bench, "validator", options.validators, VALIDATOR_STAKE);
  for (const t of bench.trainers) await actions.join(t, { role: "trainer" });
  // validator locks 1x … 8x the minimum: the committee draw is stake-weighted
  for (const [i, v] of bench.validators.entries()) {
    await actions.join(v, { role: "validator", amount: runParams.minValidatorStake * BigInt(i + 1) });
  }
  return bench;
}

async function fundedSigners(bench: Bench, label: string, count: number, stake: bigint): Promise<SignerContext[]> {
  const signers: SignerContext[] = [];
  for (let i = 0; i < count; i++) {
    const me = await bench.signer(benchAccount(label, i));
    await bench.connection.networkHelpers.setBalance(me.account.address, parseEther("10"));
    await actions.transfer(bench.deployer, { to: me.account.address, amount: stake });
    signers.push(me);
  }
  for (const me of signers) {
    await actions.approve(me, { spender: me.contracts.stakeManager.address, amount: stake });
    await actions.stake(me, { amount: stake });
  }
  return signers;
}

/** Mines a block just after `timestamp`. */
async function timeAfter(bench: Bench, timestamp: bigint | number): Promise<void> {
  const { time } = bench.connection.networkHelpers;
  const target = BigInt(timestamp) + 1n;
  if (target > BigInt(await time.latest())) await time.increaseTo(target);
}

/** Arms the challenge if nobody did and mines until the round's randomness is readable. */
async function fixRandomness(bench: Bench, round: bigint): Promise<Hex> {
  const { run } = bench.deployer.contracts;
  if ((await run.read.currentRound()).challengeBlock === 0n) await actions.armChallenge(bench.deployer, { round });
  for (let i = 0; i < 4; i++) {
    const info = await run.read.currentRound();
    if (info.randomnessReady) return info.randomness;
    await bench.connection.networkHelpers.mine(1);
  }
  throw new Error("bench-gas: the round's randomness never became readable");
}

function syntheticUpdate(rng: ReturnType<typeof createRng>, samples: number) {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.nextInt(256));
  return {
    cid: `bafkrei${bytesToHex(bytes(26)).slice(2)}`,
    contentHash: bytesToHex(bytes(32)) as Hex,
    samples,
    salt: bytesToHex(bytes(32)) as Hex,
  };
}

interface Played {
  commits: TransactionReceipt[];
  reveals: TransactionReceipt[];
  voteCommits: TransactionReceipt[];
  voteReveals: TransactionReceipt[];
  settlement: TransactionReceipt[];
  scoredPerSeat: number;
}

/**
 * Plays the current round: every trainer in `revealers` commits and reveals, every committee
 * member commits and reveals a vote (`scoreOf` per reveal index, the agreed model hash), and a
 * keeper settles in batches of `batch`.
 */
async function playRound(
  bench: Bench,
  revealers: SignerContext[],
  seed: string,
  scoreOf: (index: number) => number,
  batch = DEFAULT_FINALIZE_BATCH,
): Promise<Played> {
  const rng = createRng(seed);
  const { run } = bench.deployer.contracts;
  const info = await run.read.currentRound();
  const round = info.round;
  const params = await run.read.params();
  const updates = revealers.map(() => syntheticUpdate(rng, 500 + rng.nextInt(1_000)));
  const commits: TransactionReceipt[] = [];
  for (const [i, t] of revealers.entries()) {
    const commitment = commitmentOf({ runId: 1, round, node: t.account.address, ...updates[i]! });
    commits.push((await actions.commit(t, { round, commitment })).receipt);
  }
  await timeAfter(bench, info.commitDeadline);
  const reveals: TransactionReceipt[] = [];
  for (const [i, t] of revealers.entries()) reveals.push((await actions.reveal(t, { round, ...updates[i]! })).receipt);
  await timeAfter(bench, info.revealDeadline);
  const rand = await fixRandomness(bench, round);
  const committee = (await run.read.committee()) as readonly Address[];
  const bySeat = assignmentsBySeat(
    rand,
    revealers.map((t) => t.account.address),
    Number(params.committeeSize),
    Number(params.scorersPerUpdate),
  );
  const voteCommits: TransactionReceipt[] = [];
  const opened: { v: SignerContext; seatLengths: number[]; scores: number[]; salt: Hex }[] = [];
  for (const v of bench.validators) {
    const seats = heldSeats(committee, v.account.address);
    if (seats.length === 0) continue;
    const shape = voteShape(seats, (seat) => bySeat[seat] ?? [], scoreOf);
    const salt = keccak256(toBytes(`${seed}:salt:${v.account.address}`));
    const commitment = voteCommitmentOf({
      runId: 1n,
      round,
      validator: v.account.address,
      ...shape,
      modelHash: AGREED_HASH,
      evalLoss: 400_000_000n,
      salt,
    });
    voteCommits.push((await actions.commitVote(v, { round, commitment })).receipt);
    opened.push({ v, ...shape, salt });
  }
  await timeAfter(bench, info.scoreDeadline);
  const voteReveals: TransactionReceipt[] = [];
  for (const o of opened) {
    const sent = await actions.revealVote(o.v, {
      round,
      seatLengths: o.seatLengths,
      scores: o.scores,
      modelHash: AGREED_HASH,
      evalLoss: 400_000_000n,
      salt: o.salt,
    });
    voteReveals.push(sent.receipt);
  }
  await timeAfter(bench, info.voteRevealDeadline);
  const settlement: TransactionReceipt[] = [];
  for (let i = 0; i < 10_000; i++) {
    const sent = await actions.finalizeRound(bench.deployer, { round, maxItems: batch });
    settlement.push(sent.receipt);
    if (sent.done) break;
  }
  const seatCounts = bySeat.map((s) => s.length);
  const scoredPerSeat = seatCounts.reduce((a, b) => a + b, 0) / Math.max(1, seatCounts.length);
  return { commits, reveals, voteCommits, voteReveals, settlement, scoredPerSeat };
}

function roundGas(played: Played, trainers: number): RoundGas {
  const commit = stats(played.commits);
  const reveal = stats(played.reveals);
  const voteCommit = stats(played.voteCommits);
  const voteReveal = stats(played.voteReveals);
  const settlement = stats(played.settlement);
  const all = [...played.commits, ...played.reveals, ...played.voteCommits, ...played.voteReveals, ...played.settlement];
  const finalizePerTrainer = Math.round(settlement.total / trainers);
  const allIn = commit.mean + reveal.mean + finalizePerTrainer;
  return {
    commit,
    reveal,
    voteCommit,
    voteReveal,
    settlement,
    finalizePerTrainer,
    largestTx: Math.max(...all.map((r) => Number(r.gasUsed))),
    allInPerTrainer: allIn,
    allInWithVotesPerTrainer: allIn + Math.round((voteCommit.total + voteReveal.total) / trainers),
  };
}

/** The run parameters of a row: the defaults, with a lottery that seats every trainer. */
function rowParams(trainers: number): typeof DEFAULT_RUN_PARAMS {
  const maxNodes = Math.max(trainers, DEFAULT_RUN_PARAMS.maxNodesPerRound);
  // Day-long phases: every transaction mines a block at least a second later, and 1,024 trainers
  // need thousands of them (the phase lengths do not change any gas figure).
  const day = 24 * 3600;
  return {
    ...DEFAULT_RUN_PARAMS,
    maxNodesPerRound: maxNodes,
    trainerSeats: maxNodes,
    minUpdates: 1,
    commitDuration: day,
    revealDuration: day,
    scoreDuration: day,
    voteRevealDuration: day,
  };
}

function honestScores(seed: string): (index: number) => number {
  const rng = createRng(seed);
  const cache = new Map<number, number>();
  return (index) => {
    if (!cache.has(index)) cache.set(index, 200_000 + rng.nextInt(800_000));
    return cache.get(index)!;
  };
}

async function measureRow(connection: EdrConnection, trainers: number): Promise<{ row: RowResult; bench: Bench }> {
  const params = rowParams(trainers);
  const bench = await deployBench(connection, params, { trainers, validators: VALIDATORS });
  // round 1: registration (trainers that joined during it are eligible from round 2)
  await playRound(bench, [], `bench-gas:${trainers}:1`, () => 0);
  const first = await playRound(bench, bench.trainers, `bench-gas:${trainers}:2`, honestScores(`${trainers}:2`));
  const steady = await playRound(bench, bench.trainers, `bench-gas:${trainers}:3`, honestScores(`${trainers}:3`));
  return {
    bench,
    row: {
      trainers,
      validators: VALIDATORS,
      committeeSize: Number(params.committeeSize),
      scorersPerUpdate: Number(params.scorersPerUpdate),
      scoredPerSeat: steady.scoredPerSeat,
      first: roundGas(first, trainers),
      steady: roundGas(steady, trainers),
    },
  };
}

/** stake, join (both roles), raiseLock, claim and leave, on a run that has played rounds. */
async function measureSingle(bench: Bench): Promise<GasSnapshot["single"]> {
  const amount = parseEther("10000");
  const stakes: TransactionReceipt[] = [];
  const joiners: SignerContext[] = [];
  for (const i of [0, 1]) {
    const me = await bench.signer(benchAccount("bench-join", i));
    await bench.connection.networkHelpers.setBalance(me.account.address, parseEther("10"));
    await actions.transfer(bench.deployer, { to: me.account.address, amount });
    await actions.approve(me, { spender: me.contracts.stakeManager.address, amount });
    stakes.push((await actions.stake(me, { amount })).receipt);
    joiners.push(me);
  }
  const joinTrainer = await actions.join(joiners[0]!, { role: "trainer" });
  const joinValidator = await actions.join(joiners[1]!, { role: "validator" });
  const raise = await actions.raiseLock(joiners[0]!, { added: parseEther("100") });
  const claim = await actions.claim(bench.trainers[0]!);
  const leave = await actions.leave(joiners[0]!);
  return {
    stake: gas(stakes[0]!),
    joinTrainer: gas(joinTrainer.receipt),
    joinValidator: gas(joinValidator.receipt),
    raiseLock: gas(raise.receipt),
    claim: gas(claim.receipt),
    leave: gas(leave.receipt),
  };
}

/** A settlement batch of 64 updates that every scorer scored 0: 64 slashes in one transaction. */
async function measureWorstBatch(connection: EdrConnection): Promise<GasSnapshot["worstBatch"]> {
  const params = rowParams(64);
  const bench = await deployBench(connection, params, { trainers: 64, validators: VALIDATORS });
  await playRound(bench, [], "bench-gas:worst:1", () => 0);
  const played = await playRound(bench, bench.trainers, "bench-gas:worst:2", () => 0, 64);
  const first = played.settlement.reduce((a, b) => (b.gasUsed > a.gasUsed ? b : a));
  const { run } = bench.deployer.contracts;
  const slashes = parseEventLogs({ abi: run.abi, eventName: "NodeSlashed", logs: first.logs }).length;
  return { ...gas(first), slashes, txGasCap: TX_GAS_CAP };
}

async function measure(sizes: number[]): Promise<GasSnapshot> {
  const connection = (await network.create()) as EdrConnection;
  const rows: RowResult[] = [];
  let single: GasSnapshot["single"] | undefined;
  for (const trainers of sizes) {
    process.stderr.write(`bench-gas: ${trainers} trainers …\n`);
    const { row, bench } = await measureRow(connection, trainers);
    rows.push(row);
    if (!single) single = await measureSingle(bench);
  }
  const worstBatch = await measureWorstBatch(connection);
  process.stderr.write("bench-gas: P8 scoring simulation …\n");
  const scoring = await committeeWorkReport({ trainers: [64, 256, 1024] });
  return {
    chain: "Hardhat 3 EDR (edr-simulated, cancun), receipt gasUsed",
    compiler: "solc 0.8.30; TrainingRun optimizer 1 run (size), libraries and the rest 200 runs",
    note: "first = round 2 (a trainer's first round, fresh slots); steady = round 3 (reused slots); exec = gasUsed - 21000; 8 validators, committee C = 16",
    targets: TARGETS,
    finalizeBatch: DEFAULT_FINALIZE_BATCH,
    single: single!,
    rows,
    worstBatch,
    scoring,
  };
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

function printTables(s: GasSnapshot): void {
  console.log(`protolearn gas benchmark: ${s.chain}; ${s.compiler}`);
  console.log(`${s.note}; settlement batches of ${s.finalizeBatch}\n`);
  console.log("single calls                 gasUsed     exec");
  for (const [name, g] of Object.entries(s.single) as [string, Gas][])
    console.log(`${name.padEnd(26)} ${pad(g.gasUsed, 9)} ${pad(g.exec, 8)}`);
  console.log("");
  console.log(
    "trainers round   commit  reveal  voteCommit  voteReveal(max)  batches  finalize/trainer  largest tx  all-in/trainer  +votes/trainer  scored/seat",
  );
  for (const r of s.rows) {
    for (const [label, g] of [
      ["first", r.first],
      ["steady", r.steady],
    ] as const) {
      console.log(
        `${pad(r.trainers, 8)} ${label.padEnd(6)} ${pad(g.commit.mean, 7)} ${pad(g.reveal.mean, 7)} ${pad(g.voteCommit.mean, 11)} ${pad(
          g.voteReveal.max,
          16,
        )} ${pad(g.settlement.count, 8)} ${pad(g.finalizePerTrainer, 17)} ${pad(g.largestTx, 11)} ${pad(g.allInPerTrainer, 15)} ${pad(
          g.allInWithVotesPerTrainer,
          15,
        )} ${pad(label === "steady" ? r.scoredPerSeat.toFixed(1) : "", 12)}`,
      );
    }
  }
  const w = s.worstBatch;
  console.log(`\nworst settlement batch (${w.slashes} slashes): ${w.gasUsed} of the ${w.txGasCap} transaction gas cap`);
  console.log(
    `targets: finalize <= ${s.targets.finalizePerTrainer} per trainer; largest tx <= ${s.targets.largestTx}; all-in <= ${s.targets.allInPerTrainer} per trainer`,
  );
  console.log(`\n${formatCommitteeWork(s.scoring)}`);
}

const { values } = parseArgs({
  options: { json: { type: "boolean", default: false }, sizes: { type: "string" } },
});
const sizes = values.sizes ? values.sizes.split(",").map((x) => Number(x.trim())) : DEFAULT_SIZES;
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
  console.error(`bench-gas: --sizes takes trainer counts 1 … 1024 separated by commas, got "${values.sizes}"`);
  process.exit(2);
}
const snapshot = await measure(sizes);
if (values.json) {
  console.log(JSON.stringify(snapshot, null, 2));
} else {
  printTables(snapshot);
}
