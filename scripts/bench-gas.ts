/**
 * Gas benchmark of the training-run contracts on Hardhat's EDR chain (receipt gasUsed).
 *
 *   npm run bench:gas              # prints tables
 *   npm run bench:gas -- --json    # prints one JSON object (committed as deployments/gas-snapshot.json)
 *
 * Each measurement deploys the system the way production does (node/src/deploy `deploySystem`,
 * the Ignition module with the default run parameters) on Hardhat's in-process chain and sends
 * every transaction through the node's own chain actions (node/src/chain/actions), so what is
 * measured is what a node pays. For 4, 16 and 64 trainers with 3 validators it plays two full
 * rounds on a fresh run and measures the second ("steady": every reused slot already nonzero,
 * the state a long-running run is in) and the first ("first": the node's first round, fresh
 * slots). Every figure is given as gasUsed and as gasUsed - 21,000 (execution and calldata
 * beyond the intrinsic cost). Keys, updates and scores are deterministic, so the numbers are
 * reproducible.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import {
  bytesToHex,
  custom,
  formatEther,
  keccak256,
  parseEther,
  parseEventLogs,
  toBytes,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { privateKeyToAccount, type Account } from "viem/accounts";
import { DEFAULT_RUN_PARAMS } from "../ignition/modules/defaults.js";
import * as actions from "../node/src/chain/actions/index.js";
import { connectSigner, type SignerContext } from "../node/src/chain/client.js";
import { commitmentOf } from "../node/src/chain/commitment.js";
import { loadDeployment } from "../node/src/chain/deployment.js";
import { deploySystem } from "../node/src/deploy/deploy-system.js";
import { devAccount } from "../node/src/devnet/dev-keys.js";
import {
  applyRunParamChanges,
  descriptionHash,
  paramsProposal,
  proposalArrays,
} from "../node/src/governance/index.js";
import { createRng } from "../node/src/random/rng.js";

const INTRINSIC = 21_000;
const TRAINER_COUNTS = [4, 16, 64] as const;
const VALIDATORS = 3;

/** A gas figure as the receipt reports it and without the 21,000 intrinsic transaction cost. */
interface Gas {
  gasUsed: number;
  exec: number;
}

/** Several transactions of one kind (one per node). */
interface GasStats {
  mean: number;
  min: number;
  max: number;
  meanExec: number;
}

interface RoundGas {
  commit: GasStats;
  reveal: GasStats;
  /** commit + reveal of one node, mean */
  commitPlusReveal: Gas;
  submitScores: GasStats;
  finalize: Gas;
  /** finalize gasUsed / trainers */
  finalizePerTrainer: number;
}

interface TrainerCountResult {
  trainers: number;
  validators: number;
  first: RoundGas;
  steady: RoundGas;
}

export interface GasSnapshot {
  chain: string;
  compiler: string;
  note: string;
  targets: { commitPlusReveal: number; finalizePerTrainer: number };
  stake: Gas;
  join: { trainer: Gas; validator: Gas };
  claim: Gas;
  leave: Gas;
  runs: TrainerCountResult[];
  /** (finalize(64) - finalize(16)) / 48: what one more trainer adds to finalize, steady state */
  finalizeMarginalPerTrainer: number;
  /** the costliest finalize the bounds allow (64 invalid updates, 15 of 16 validators outside
   *  the majority: 79 slashes; slowest score order), against the 2^24 transaction gas cap */
  worstCaseFinalize: Gas & { slashes: number; txGasCap: number };
}


/** EIP-7825: no transaction may use more gas than this (EDR enforces it). */
const TX_GAS_CAP = 16_777_216n;

/** The model hash the validators in consensus attest; another one for those outside it. */
const AGREED_HASH = keccak256(toBytes("bench-gas: aggregated model"));
const OTHER_HASH = keccak256(toBytes("bench-gas: a different model"));

/** Stake each trainer and validator bonds (the run locks its role's minimum of it). */
const TRAINER_STAKE = parseEther("1000");
const VALIDATOR_STAKE = parseEther("10000");

/** Module parameters: the default run, and a short vote and timelock (the worst case changes a parameter). */
const BENCH_PARAMETERS = { runParams: DEFAULT_RUN_PARAMS, votingPeriod: 5n, timelockDelay: 60n };

type EdrConnection = NetworkConnection & {
  networkHelpers: {
    setBalance(address: string, balance: bigint): Promise<void>;
    mine(blocks?: number): Promise<void>;
    time: { latest(): Promise<number>; increaseTo(timestamp: bigint): Promise<void> };
  };
};

/** One deployed system and its accounts, every one with a signer context on the in-process chain. */
interface Bench {
  connection: EdrConnection;
  deployer: SignerContext;
  trainers: SignerContext[];
  validators: SignerContext[];
  /** Signer context of any account on this deployment. */
  signer(account: Account): Promise<SignerContext>;
}

function gas(receipt: TransactionReceipt): Gas {
  const used = Number(receipt.gasUsed);
  return { gasUsed: used, exec: used - INTRINSIC };
}

function stats(receipts: TransactionReceipt[]): GasStats {
  const values = receipts.map((r) => Number(r.gasUsed));
  const mean = Math.round(values.reduce((a, b) => a + b, 0) / values.length);
  return { mean, min: Math.min(...values), max: Math.max(...values), meanExec: mean - INTRINSIC };
}

/** A deterministic account: key keccak256("protolearn:<label>:<i>"). */
function benchAccount(label: string, i: number): Account {
  return privateKeyToAccount(keccak256(toBytes(`protolearn:${label}:${i}`)));
}

/**
 * Deploys the system with `deploySystem` and gives it `trainers` and `validators` accounts,
 * each given ETH, sent `stake` LEARN by the deployer, staked and (when `join`) joined.
 */
async function deployBench(
  connection: EdrConnection,
  options: { trainers: number; validators: number; join?: boolean },
): Promise<Bench> {
  const outDir = await mkdtemp(join(tmpdir(), "protolearn-bench-gas-"));
  const record = await deploySystem({ connection, networkName: "hardhat", outDir, parameters: BENCH_PARAMETERS });
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
  if (options.join !== false) {
    for (const t of bench.trainers) await actions.join(t, { role: "trainer" });
    for (const v of bench.validators) await actions.join(v, { role: "validator" });
  }
  return bench;
}

/** `count` deterministic accounts, each given 10 ETH and `stake` LEARN, all of it staked. */
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

/**
 * Mines a block just after `timestamp`, so that a transaction simulated against the latest
 * block (as the transaction sender does) already sees the time past it.
 */
async function timeAfter(bench: Bench, timestamp: bigint | number): Promise<void> {
  const { time } = bench.connection.networkHelpers;
  const target = BigInt(timestamp) + 1n;
  if (target > BigInt(await time.latest())) await time.increaseTo(target);
}

/** A synthetic update of realistic size: a 59-character CIDv1, a content hash and a salt. */
function syntheticUpdate(rng: ReturnType<typeof createRng>, samples: number) {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.nextInt(256));
  return {
    cid: `bafkrei${bytesToHex(bytes(26)).slice(2)}`,
    contentHash: bytesToHex(bytes(32)) as Hex,
    samples,
    salt: bytesToHex(bytes(32)) as Hex,
  };
}

interface RoundPlan {
  /** trainers that commit and reveal */
  revealers: SignerContext[];
  /** per validator: its scores (in reveal order) and its model hash */
  votes: (revealers: number) => { validator: SignerContext; scores: number[]; modelHash: Hex }[];
  seed: string;
  /** finalize afterwards (default true) */
  finalize?: boolean;
}

/** Plays the current round: commits, reveals, scores, and (unless told otherwise) finalizes. */
async function playRound(bench: Bench, plan: RoundPlan) {
  const rng = createRng(plan.seed);
  const { run } = bench.deployer.contracts;
  const info = await run.read.currentRound();
  const round = info.round;
  const updates = plan.revealers.map(() => syntheticUpdate(rng, 500 + rng.nextInt(1_000)));
  const commits: TransactionReceipt[] = [];
  for (const [i, t] of plan.revealers.entries()) {
    const commitment = commitmentOf({ runId: 1, round, node: t.account.address, ...updates[i]! });
    commits.push((await actions.commit(t, { round, commitment })).receipt);
  }
  await timeAfter(bench, info.commitDeadline);
  const reveals: TransactionReceipt[] = [];
  for (const [i, t] of plan.revealers.entries()) {
    reveals.push((await actions.reveal(t, { round, ...updates[i]! })).receipt);
  }
  await timeAfter(bench, info.revealDeadline);
  const scores: TransactionReceipt[] = [];
  for (const vote of plan.votes(plan.revealers.length)) {
    const sent = await actions.submitScores(vote.validator, {
      round,
      scores: vote.scores,
      modelHash: vote.modelHash,
      evalLoss: 400_000_000n,
    });
    scores.push(sent.receipt);
  }
  await timeAfter(bench, info.scoreDeadline);
  const finalize = plan.finalize === false ? undefined : (await actions.finalizeRound(bench.deployer, { round })).receipt;
  return { round, commits, reveals, scores, finalize };
}

/** Plays one round with every trainer revealing and every validator agreeing; returns its gas. */
async function measuredRound(bench: Bench, seed: string): Promise<RoundGas> {
  const rng = createRng(`${seed}:scores`);
  const played = await playRound(bench, {
    revealers: bench.trainers,
    votes: (n) =>
      bench.validators.map((validator) => ({
        validator,
        scores: Array.from({ length: n }, () => 200_000 + rng.nextInt(800_000)),
        modelHash: AGREED_HASH,
      })),
    seed,
  });
  const finalize = played.finalize!;
  const commit = stats(played.commits);
  const reveal = stats(played.reveals);
  const pair = commit.mean + reveal.mean;
  return {
    commit,
    reveal,
    commitPlusReveal: { gasUsed: pair, exec: pair - 2 * INTRINSIC },
    submitScores: stats(played.scores),
    finalize: gas(finalize),
    finalizePerTrainer: Math.round(Number(finalize.gasUsed) / bench.trainers.length),
  };
}

async function measure(): Promise<GasSnapshot> {
  const connection = (await network.create()) as EdrConnection;
  const runs: TrainerCountResult[] = [];
  let extras: Pick<GasSnapshot, "stake" | "join" | "claim" | "leave"> | undefined;
  for (const trainers of TRAINER_COUNTS) {
    const bench = await deployBench(connection, { trainers, validators: VALIDATORS });
    const first = await measuredRound(bench, `bench-gas:${trainers}:1`);
    const steady = await measuredRound(bench, `bench-gas:${trainers}:2`);
    runs.push({ trainers, validators: VALIDATORS, first, steady });
    if (!extras) extras = await measureExtras(bench);
  }
  const worstCaseFinalize = await measureWorstCase(connection);
  const f16 = runs.find((r) => r.trainers === 16)!.steady.finalize.gasUsed;
  const f64 = runs.find((r) => r.trainers === 64)!.steady.finalize.gasUsed;
  return {
    chain: "Hardhat 3 EDR (edr-simulated, cancun), receipt gasUsed",
    compiler: "solc 0.8.30, optimizer 200 runs",
    note: "first = a node's first round (fresh slots); steady = later rounds (reused nonzero slots); exec = gasUsed - 21000",
    targets: { commitPlusReveal: 60_000, finalizePerTrainer: 15_000 },
    ...extras!,
    runs,
    finalizeMarginalPerTrainer: Math.round((f64 - f16) / (64 - 16)),
    worstCaseFinalize,
  };
}

/**
 * The most expensive finalize the parameter bounds allow: 64 revealed updates that will all be
 * invalid (64 slashes), 16 validators of which 15 light ones disagree with a heavy 2/3 majority
 * (15 more slashes), scores submitted in the order that makes the median's insertion sort shift
 * every entry. The heavy validator joins after governance raised the validator minimum 100-fold,
 * so it holds 100 / 115 of the voting stake.
 */
async function measureWorstCase(connection: EdrConnection) {
  const bench = await deployBench(connection, { trainers: 64, validators: 15 });
  const { deployer } = bench;
  const { run } = deployer.contracts;
  const current = await run.read.params();
  const { next, changes } = applyRunParamChanges(current, [
    `minValidatorStake=${formatEther(current.minValidatorStake * 100n)}`,
  ]);
  await passProposal(bench, paramsProposal({ run: run.address, runId: 1, next, changes }));
  await playRound(bench, { revealers: [], votes: () => [], seed: "bench-gas:worst:1" });
  const [heavy] = await fundedSigners(bench, "worst-case-heavy", 1, current.minValidatorStake * 100n);
  await actions.join(heavy!, { role: "validator" });
  const { round } = await playRound(bench, {
    revealers: bench.trainers,
    votes: (n) => [
      // descending values, then the heavy zero last: every insertion shifts all earlier entries
      ...bench.validators.map((validator, k) => ({
        validator,
        scores: Array.from({ length: n }, () => 1_000_000 - 1_000 * k),
        modelHash: OTHER_HASH,
      })),
      { validator: heavy!, scores: Array.from({ length: n }, () => 0), modelHash: AGREED_HASH },
    ],
    seed: "bench-gas:worst:2",
    finalize: false,
  });
  const { receipt } = await actions.finalizeRound(deployer, { round });
  const slashes = parseEventLogs({ abi: run.abi, eventName: "NodeSlashed", logs: receipt.logs }).length;
  return { ...gas(receipt), slashes, txGasCap: Number(TX_GAS_CAP) };
}

/** Propose, vote (the deployer's genesis votes pass the quorum), queue, wait the timelock, execute. */
async function passProposal(bench: Bench, draft: ReturnType<typeof paramsProposal>): Promise<void> {
  const { deployer, connection } = bench;
  await actions.delegate(deployer);
  await connection.networkHelpers.mine(1);
  const arrays = proposalArrays(draft.actions);
  const { proposalId } = await actions.propose(deployer, { ...arrays, description: draft.description });
  await connection.networkHelpers.mine(2);
  await actions.castVote(deployer, { proposalId, support: "For" });
  await connection.networkHelpers.mine(Number(BENCH_PARAMETERS.votingPeriod) + 1);
  const hash = descriptionHash(draft.description);
  await actions.queue(deployer, { ...arrays, descriptionHash: hash });
  await timeAfter(bench, BigInt(await connection.networkHelpers.time.latest()) + BENCH_PARAMETERS.timelockDelay);
  await actions.execute(deployer, { ...arrays, descriptionHash: hash });
}

/** stake, join (both roles), claim and leave, on a run that has played two rounds. */
async function measureExtras(bench: Bench): Promise<Pick<GasSnapshot, "stake" | "join" | "claim" | "leave">> {
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
  const claim = await actions.claim(bench.trainers[0]!);
  const leave = await actions.leave(joiners[0]!);
  return {
    stake: gas(stakes[0]!),
    join: { trainer: gas(joinTrainer.receipt), validator: gas(joinValidator.receipt) },
    claim: gas(claim.receipt),
    leave: gas(leave.receipt),
  };
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

function printTables(s: GasSnapshot): void {
  console.log(`protolearn gas benchmark: ${s.chain}; ${s.compiler}`);
  console.log(`${s.note}\n`);
  console.log("single calls                 gasUsed     exec");
  const single: [string, Gas][] = [
    ["stake (first)", s.stake],
    ["join as trainer", s.join.trainer],
    ["join as validator", s.join.validator],
    ["claim", s.claim],
    ["leave", s.leave],
  ];
  for (const [name, g] of single)
    console.log(`${name.padEnd(26)} ${pad(g.gasUsed, 9)} ${pad(g.exec, 8)}`);
  console.log("");
  console.log(
    "trainers round   commit  reveal  c+r used  c+r exec  scores(mean)  finalize  finalize/trainer",
  );
  for (const r of s.runs) {
    for (const [label, g] of [
      ["first", r.first],
      ["steady", r.steady],
    ] as const) {
      console.log(
        `${pad(r.trainers, 8)} ${label.padEnd(6)} ${pad(g.commit.mean, 7)} ${pad(g.reveal.mean, 7)} ${pad(
          g.commitPlusReveal.gasUsed,
          9,
        )} ${pad(g.commitPlusReveal.exec, 9)} ${pad(g.submitScores.mean, 13)} ${pad(g.finalize.gasUsed, 9)} ${pad(
          g.finalizePerTrainer,
          17,
        )}`,
      );
    }
  }
  console.log(
    `\nfinalize, marginal gas per extra trainer (steady, 16 -> 64): ${s.finalizeMarginalPerTrainer}`,
  );
  const w = s.worstCaseFinalize;
  console.log(
    `finalize, worst case the bounds allow (${w.slashes} slashes): ${w.gasUsed} of the ${w.txGasCap} transaction gas cap`,
  );
  console.log(
    `targets: commit + reveal <= ${s.targets.commitPlusReveal} per node; finalize <= ${s.targets.finalizePerTrainer} per trainer`,
  );
}

const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
const snapshot = await measure();
if (values.json) {
  console.log(JSON.stringify(snapshot, null, 2));
} else {
  printTables(snapshot);
}
