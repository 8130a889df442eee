/**
 * Gas benchmark of the training-run contracts on Hardhat's EDR chain (receipt gasUsed).
 *
 *   npm run bench:gas              # prints tables
 *   npm run bench:gas -- --json    # prints one JSON object (committed as deployments/gas-snapshot.json)
 *
 * For 4, 16 and 64 trainers with 3 validators it plays two full rounds on a fresh run and
 * measures the second ("steady": every reused slot already nonzero, the state a long-running
 * run is in) and the first ("first": the node's first round, fresh slots). Every figure is
 * given as gasUsed and as gasUsed - 21,000 (execution and calldata beyond the intrinsic cost).
 * All scores, samples and keys are deterministic, so the numbers are reproducible.
 */
import { parseArgs } from "node:util";
import type { ContractTransactionReceipt } from "ethers";
import { network } from "hardhat";
import type { Address } from "viem";
import { commitmentOf } from "../node/src/chain/commitment.js";
import { createRng } from "../node/src/random/rng.js";
import {
  AGREED_HASH,
  deployRun,
  makeUpdate,
  prepareWorstCaseRound,
  Role,
  type RunDeployment,
  send,
  TEST_RUN_PARAMS,
  timeTo,
  TX_GAS_CAP,
} from "../test/contracts/helpers/deployRun.js";
import { ONE } from "../test/contracts/helpers/deployCore.js";

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

function gas(receipt: ContractTransactionReceipt): Gas {
  const used = Number(receipt.gasUsed);
  return { gasUsed: used, exec: used - INTRINSIC };
}

function stats(receipts: ContractTransactionReceipt[]): GasStats {
  const values = receipts.map((r) => Number(r.gasUsed));
  const mean = Math.round(values.reduce((a, b) => a + b, 0) / values.length);
  return { mean, min: Math.min(...values), max: Math.max(...values), meanExec: mean - INTRINSIC };
}

/** Plays one round with every trainer revealing and every validator agreeing; returns its gas. */
async function measuredRound(d: RunDeployment, seed: string): Promise<RoundGas> {
  const rng = createRng(seed);
  const info = await d.run.currentRound();
  const round = info.round;
  const updates = d.trainers.map((t) =>
    makeUpdate(t.address, round, BigInt(500 + rng.nextInt(1_000))),
  );
  const commits: ContractTransactionReceipt[] = [];
  for (const [i, t] of d.trainers.entries()) {
    commits.push(
      await send(
        d.run.connect(t).commit(round, commitmentOf({ runId: d.runId, round, node: t.address as Address, ...updates[i]! })),
      ),
    );
  }
  await timeTo(d, info.commitDeadline);
  const reveals: ContractTransactionReceipt[] = [];
  for (const [i, t] of d.trainers.entries()) {
    const u = updates[i]!;
    reveals.push(
      await send(d.run.connect(t).reveal(round, u.cid, u.contentHash, u.samples, u.salt)),
    );
  }
  await timeTo(d, info.revealDeadline);
  const scores: ContractTransactionReceipt[] = [];
  for (const v of d.validators) {
    const s = d.trainers.map(() => 200_000 + rng.nextInt(800_000));
    scores.push(await send(d.run.connect(v).submitScores(round, s, AGREED_HASH, 400_000_000n)));
  }
  await timeTo(d, info.scoreDeadline);
  const finalize = await send(d.run.finalizeRound(round));
  const commit = stats(commits);
  const reveal = stats(reveals);
  const pair = commit.mean + reveal.mean;
  return {
    commit,
    reveal,
    commitPlusReveal: { gasUsed: pair, exec: pair - 2 * INTRINSIC },
    submitScores: stats(scores),
    finalize: gas(finalize),
    finalizePerTrainer: Math.round(Number(finalize.gasUsed) / d.trainers.length),
  };
}

async function measure(): Promise<GasSnapshot> {
  const connection = await network.create();
  const runs: TrainerCountResult[] = [];
  let extras: Pick<GasSnapshot, "stake" | "join" | "claim" | "leave"> | undefined;
  for (const trainers of TRAINER_COUNTS) {
    const d = await deployRun(connection, {
      trainers,
      validators: VALIDATORS,
      params: { ...TEST_RUN_PARAMS, maxNodesPerRound: 64, maxValidators: 16 },
    });
    const first = await measuredRound(d, `bench-gas:${trainers}:1`);
    const steady = await measuredRound(d, `bench-gas:${trainers}:2`);
    runs.push({ trainers, validators: VALIDATORS, first, steady });
    if (!extras) extras = await measureExtras(d);
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

async function measureWorstCase(connection: Parameters<typeof prepareWorstCaseRound>[0]) {
  const { d, round } = await prepareWorstCaseRound(connection);
  const receipt = await send(d.run.finalizeRound(round, { gasLimit: TX_GAS_CAP }));
  const slashes = receipt.logs.filter(
    (l) => d.run.interface.parseLog(l)?.name === "NodeSlashed",
  ).length;
  return { ...gas(receipt), slashes, txGasCap: Number(TX_GAS_CAP) };
}

/** stake, join (both roles), claim and leave, on a run that has played two rounds. */
async function measureExtras(
  d: RunDeployment,
): Promise<Pick<GasSnapshot, "stake" | "join" | "claim" | "leave">> {
  const { ethers, networkHelpers } = d.core.connection;
  const stakeManagerAddress = await d.core.stakeManager.getAddress();
  const wallets = [0, 1].map(
    (i) => new ethers.Wallet(ethers.id(`protolearn:bench-join:${i}`), ethers.provider),
  );
  const stakeReceipts: ContractTransactionReceipt[] = [];
  for (const w of wallets) {
    await networkHelpers.setBalance(w.address, 10n * ONE);
    await send(d.core.token.connect(d.core.deployer).transfer(w.address, 10_000n * ONE));
    await send(d.core.token.connect(w).approve(stakeManagerAddress, 10_000n * ONE));
    stakeReceipts.push(await send(d.core.stakeManager.connect(w).stake(10_000n * ONE)));
  }
  const joinTrainer = await send(d.run.connect(wallets[0]!).join(Role.Trainer));
  const joinValidator = await send(d.run.connect(wallets[1]!).join(Role.Validator));
  const claim = await send(d.run.connect(d.trainers[0]!).claim());
  const leave = await send(d.run.connect(wallets[0]!).leave());
  return {
    stake: gas(stakeReceipts[0]!),
    join: { trainer: gas(joinTrainer), validator: gas(joinValidator) },
    claim: gas(claim),
    leave: gas(leave),
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
