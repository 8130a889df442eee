import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  AbiCoder,
  type ContractTransactionResponse,
  id,
  keccak256,
  type LogDescription,
  Wallet,
} from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { Address, Hex } from "viem";
import { commitmentOf } from "../../../node/src/chain/commitment.js";
import type {
  ITrainingRun,
  RunFactory,
  TrainingRun,
} from "../../../types/ethers-contracts/index.js";
import { Role } from "./contractEnums.js";
import { type Core, type CoreOptions, deployCore, ONE, timelockSigner } from "./deployCore.js";

export type RunParams = ITrainingRun.RunParamsStruct;
export { Phase, Role, RoundFailure, SlashReason } from "./contractEnums.js";

/** Run parameters of the tests: hour-long phases (time is moved explicitly), small stakes. */
export const TEST_RUN_PARAMS: RunParams = {
  modelId: id("mnist-mlp-v1"),
  innerSteps: 50,
  batchSize: 32,
  innerLrPpm: 2_000,
  outerLrPpm: 700_000,
  outerMomentumPpm: 900_000,
  densityPpm: 10_000,
  quantBits: 8,
  aggregation: 0,
  trimPpm: 100_000,
  clipMultiplePpm: 2_000_000,
  checkpointEvery: 5,
  commitDuration: 3600,
  revealDuration: 3600,
  scoreDuration: 3600,
  voteRevealDuration: 3600,
  maxNodesPerRound: 64,
  // as many expected seats as the cap: equal-stake trainers each draw below 1e6 x N x lock / T >= 1e6
  trainerSeats: 64,
  committeeSize: 16,
  scorersPerUpdate: 16,
  minUpdates: 1,
  acceptScorePpm: 100_000,
  minTrainerStake: 100n * ONE,
  minValidatorStake: 1_000n * ONE,
  invalidSlashBps: 1_000,
  noRevealSlashBps: 500,
  validatorSlashBps: 1_000,
  validatorShareBps: 2_000,
  emissionPerRound: 1_000n * ONE,
};

export const INITIAL_MODEL_HASH = keccak256(Buffer.from("initial model M_1"));
export const INITIAL_MODEL_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

export interface RunOptions {
  params: RunParams;
  /** trainers and validators created (deterministic wallets, funded, staked, joined) */
  trainers: number;
  validators: number;
  /** stake each node bonds in the StakeManager (the run locks the role minimum of it) */
  trainerStake: bigint;
  validatorStake: bigint;
  /** whether the nodes join the run (else they are only staked) */
  join: boolean;
  /** after joining, play round 1 empty so that the trainers are eligible (default true) */
  warmUp: boolean;
  core: Partial<CoreOptions>;
}

export const DEFAULT_RUN_OPTIONS: RunOptions = {
  params: TEST_RUN_PARAMS,
  trainers: 4,
  validators: 3,
  trainerStake: 1_000n * ONE,
  validatorStake: 10_000n * ONE,
  join: true,
  warmUp: true,
  core: {},
};

export interface RunDeployment {
  core: Core;
  /** the timelock, impersonated: governance of the factory and the run */
  governance: HardhatEthersSigner;
  /** may pause the run, nothing else */
  guardian: HardhatEthersSigner;
  /** holds no role anywhere */
  outsider: HardhatEthersSigner;
  implementation: TrainingRun;
  factory: RunFactory;
  run: TrainingRun;
  runId: bigint;
  trainers: Wallet[];
  validators: Wallet[];
}

/**
 * Deploys the core (deployCore), a TrainingRun implementation and a RunFactory governed by the
 * timelock, names the factory the StakeManager's run factory (as its deployer, the way the
 * deployment does) and grants it MINTER_ADMIN_ROLE (as the timelock, the
 * way a governance proposal would), creates run #1 and gives it deterministic, funded, staked
 * trainer and validator wallets that have joined.
 *
 * @example
 * const connection = await network.create();
 * const d = await connection.networkHelpers.loadFixture(() => deployRun(connection));
 */
export async function deployRun(
  connection: Pick<NetworkConnection, "ethers" | "networkHelpers">,
  overrides: Partial<RunOptions> = {},
): Promise<RunDeployment> {
  const options: RunOptions = { ...DEFAULT_RUN_OPTIONS, ...overrides };
  const { ethers } = connection;
  const core = await deployCore(connection, options.core);
  const governance = await timelockSigner(core);
  const [guardian, outsider] = core.others;
  if (!guardian || !outsider)
    throw new Error("deployRun: needs two signers outside the token holders");

  const implementation = await deployTrainingRunImplementation(connection);
  const factory = await ethers.deployContract("RunFactory", [
    await implementation.getAddress(),
    await core.stakeManager.getAddress(),
    await core.token.getAddress(),
    governance.address,
    guardian.address,
  ]);
  const factoryAddress = await factory.getAddress();
  await send(core.stakeManager.connect(core.deployer).setRunFactory(factoryAddress));
  await send(
    core.token.connect(governance).grantRole(await core.token.MINTER_ADMIN_ROLE(), factoryAddress),
  );

  // funded before round 1 opens: every automined block moves chain time by at least a second,
  // and a thousand wallets must still join within round 1's commit phase
  const trainers = await fundedWallets(core, "trainer", options.trainers, options.trainerStake);
  const validators = await fundedWallets(
    core,
    "validator",
    options.validators,
    options.validatorStake,
  );
  await send(
    factory.connect(governance).createRun(options.params, INITIAL_MODEL_HASH, INITIAL_MODEL_CID),
  );
  const runId = await factory.runCount();
  const run = await ethers.getContractAt("TrainingRun", await factory.runOf(runId));
  const deployment = {
    core,
    governance,
    guardian,
    outsider,
    implementation,
    factory,
    run,
    runId,
    trainers,
    validators,
  };
  if (options.join) {
    const params = options.params;
    for (const t of trainers) await send(run.connect(t).join(Role.Trainer, params.minTrainerStake));
    for (const v of validators) await send(run.connect(v).join(Role.Validator, params.minValidatorStake));
    if (options.warmUp) await playRound(deployment, { revealers: [], votes: [] });
  }
  return deployment;
}

/** A TrainingRun implementation linked to freshly deployed copies of its three libraries. */
export async function deployTrainingRunImplementation(
  connection: Pick<NetworkConnection, "ethers">,
): Promise<TrainingRun> {
  const { ethers } = connection;
  const libraries: Record<string, string> = {};
  for (const name of ["RoundSettlement", "Committee", "RunParamsLib"]) {
    const lib = await ethers.deployContract(name, []);
    libraries[name] = await lib.getAddress();
  }
  return (await ethers.deployContract("TrainingRun", [], { libraries })) as unknown as TrainingRun;
}

/**
 * `count` deterministic wallets (keys keccak256("protolearn:<label>:<i>")), each given 10 ETH and
 * `stake` tokens by the deployer and staking them all in the StakeManager.
 */
export async function fundedWallets(
  core: Core,
  label: string,
  count: number,
  stake: bigint,
): Promise<Wallet[]> {
  const { ethers, networkHelpers } = core.connection;
  const wallets: Wallet[] = [];
  for (let i = 0; i < count; i++) {
    const wallet = new Wallet(id(`protolearn:${label}:${i}`), ethers.provider);
    await networkHelpers.setBalance(wallet.address, 10n * ONE);
    await send(core.token.connect(core.deployer).transfer(wallet.address, stake));
    wallets.push(wallet);
  }
  const stakeManagerAddress = await core.stakeManager.getAddress();
  for (const wallet of wallets) {
    await send(core.token.connect(wallet).approve(stakeManagerAddress, stake));
    await send(core.stakeManager.connect(wallet).stake(stake));
  }
  return wallets;
}

/** Sends and waits for one transaction; returns its receipt (throws if it reverted). */
export async function send(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction has no receipt");
  return receipt;
}

/** What a trainer reveals; `commitmentOf` (node/src/chain/commitment.ts) of it is the commitment. */
export interface Update {
  cid: string;
  contentHash: Hex;
  samples: bigint;
  salt: Hex;
}

/** A deterministic update for `node` in `round` (content hash and salt derived from both). */
export function makeUpdate(node: string, round: bigint, samples = 1_000n): Update {
  const tag = `${node.toLowerCase()}:${round}`;
  return {
    cid: `bafkrei${keccak256(Buffer.from(`cid:${tag}`)).slice(2, 54)}`,
    contentHash: keccak256(Buffer.from(`content:${tag}`)) as Hex,
    samples,
    salt: keccak256(Buffer.from(`salt:${tag}`)) as Hex,
  };
}

/** Moves the chain to `timestamp` (the next transaction lands at timestamp + 1 or later). */
export async function timeTo(d: RunDeployment, timestamp: bigint): Promise<void> {
  const { networkHelpers } = d.core.connection;
  const now = BigInt(await networkHelpers.time.latest());
  if (timestamp > now) await networkHelpers.time.increaseTo(timestamp);
}

export interface VotePlan {
  validator: Wallet;
  /** its score of every revealed update, in reveal order; it reveals only its seats' ones */
  scores: number[];
  modelHash: string;
  evalLoss?: bigint;
  /** reveal the vote (default true) */
  reveal?: boolean;
}

export interface RoundPlan {
  /** trainers that commit and reveal (each with makeUpdate unless `updates` says otherwise) */
  revealers: Wallet[];
  /** trainers that commit and never reveal */
  silent?: Wallet[];
  updates?: Map<string, Update>;
  /** committee members' votes (a validator without a seat is skipped); a function is called
   *  with the round's committee (seat j's holder) once the randomness is fixed */
  votes: VotePlan[] | ((committee: string[]) => VotePlan[]);
  /** the test stands in for the block producer: the challenge block is re-mined (snapshot and
   *  revert, other timestamps) until the committee it draws satisfies this */
  committeeWhere?: (committee: string[], randomness: string) => boolean;
  /** settle afterwards (default true) */
  finalize?: boolean;
  /** settlement batch size (default 1024: one transaction) */
  batch?: number;
}

/** The vote commitment: keccak256(abi.encode(runId, round, validator, seatLengths, scores, modelHash, evalLoss, salt)). */
export function voteCommitmentOf(v: {
  runId: bigint;
  round: bigint;
  validator: string;
  seatLengths: number[];
  scores: number[];
  modelHash: string;
  evalLoss: bigint;
  salt: string;
}): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["uint256", "uint256", "address", "uint16[]", "uint32[]", "bytes32", "uint64", "bytes32"],
      [v.runId, v.round, v.validator, v.seatLengths, v.scores, v.modelHash, v.evalLoss, v.salt],
    ),
  );
}

/** What validator `validator` reveals for `scores` (indexed by reveal order) given the committee. */
export async function voteFor(d: RunDeployment, validator: string, scores: number[]) {
  const committee = await d.run.committee();
  const seatLengths: number[] = [];
  const picked: number[] = [];
  for (let j = 0; j < committee.length; j++) {
    if (committee[j]!.toLowerCase() !== validator.toLowerCase()) continue;
    const assigned = await d.run.assignedTo(j);
    seatLengths.push(assigned.length);
    for (const i of assigned) picked.push(scores[Number(i)] ?? 0);
  }
  return { seatLengths, scores: picked };
}

/** Mines blocks until the round's randomness is readable (arming it first if nobody has). */
export async function fixRandomness(d: RunDeployment, round: bigint): Promise<void> {
  const { networkHelpers } = d.core.connection;
  let info = await d.run.currentRound();
  if (info.challengeBlock === 0n) await send(d.run.armChallenge(round));
  for (let i = 0; i < 3 && !(await d.run.currentRound()).randomnessReady; i++) await networkHelpers.mine(1);
  info = await d.run.currentRound();
  if (!info.randomnessReady) throw new Error("fixRandomness: randomness still not ready");
}

/**
 * Arms the challenge of `round` (after its commit deadline) and mines its challenge block until
 * the committee that block's hash draws satisfies `where`: the test stands in for a block
 * producer (each try is a snapshot, an empty block at another timestamp, and a revert). Returns
 * the committee; the randomness is readable afterwards.
 */
export async function fixRandomnessWhere(
  d: RunDeployment,
  round: bigint,
  where: (committee: string[], randomness: string) => boolean,
  tries = 500,
): Promise<string[]> {
  const { ethers, networkHelpers } = d.core.connection;
  let info = await d.run.currentRound();
  if (info.challengeBlock === 0n) await send(d.run.armChallenge(round));
  info = await d.run.currentRound();
  const latest = await ethers.provider.getBlock("latest");
  if (!latest || BigInt(latest.number) + 1n !== info.challengeBlock)
    throw new Error("fixRandomnessWhere: the challenge block is already mined");
  for (let i = 0; i < tries; i++) {
    const snapshot = await networkHelpers.takeSnapshot();
    await ethers.provider.send("evm_mine", [latest.timestamp + 1 + i]);
    const block = await ethers.provider.getBlock(Number(info.challengeBlock));
    const rand = randomnessOf(block!.hash!, d.runId, round);
    const committee = [...(await d.run.committeeFor(rand))];
    if (where(committee, rand)) {
      await networkHelpers.mine(1);
      return committee;
    }
    await snapshot.restore();
  }
  throw new Error(`fixRandomnessWhere: no committee in ${tries} challenge blocks satisfies the condition`);
}

/** rand_r = keccak256(abi.encode(blockhash(challengeBlock), runId, round)). */
export function randomnessOf(blockHash: string, runId: bigint, round: bigint): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256", "uint256"], [blockHash, runId, round]),
  );
}

/** A trainer's seat-lottery draw (ppm): uint256(keccak256(abi.encode(rand, node))) % 1e6. */
export function seatDrawOf(randomness: string, node: string): bigint {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [randomness, node]))) % 1_000_000n;
}

/** The lottery threshold: min(1e6, seats x lock x 1e6 / total). */
export function seatThresholdOf(seats: bigint, lock: bigint, total: bigint): bigint {
  if (total === 0n) return 0n;
  const t = (seats * lock * 1_000_000n) / total;
  return t > 1_000_000n ? 1_000_000n : t;
}

/** Committee seats per holder (lower-case address -> seats). */
export function seatCounts(committee: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const holder of committee) {
    if (holder === "0x0000000000000000000000000000000000000000") continue;
    const key = holder.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Seats `address` holds in `committee`. */
export function seatsOf(committee: readonly string[], address: string): number {
  return seatCounts(committee).get(address.toLowerCase()) ?? 0;
}

/** The run's events named `name` in a receipt, parsed. */
export function events(
  d: RunDeployment,
  receipt: { logs: readonly { topics: readonly string[]; data: string }[] } | null | undefined,
  name: string,
): LogDescription[] {
  if (!receipt) throw new Error("no receipt: the round was not settled");
  const out: LogDescription[] = [];
  for (const log of receipt.logs) {
    const parsed = d.run.interface.parseLog(log);
    if (parsed?.name === name) out.push(parsed);
  }
  return out;
}

/** The run's events named `name` over several receipts. */
export function eventsOf(
  d: RunDeployment,
  receipts: readonly ({ logs: readonly { topics: readonly string[]; data: string }[] } | null)[],
  name: string,
): LogDescription[] {
  return receipts.flatMap((r) => events(d, r, name));
}

/** The lower median of equally weighted values (the smallest m with 2 * #(v <= m) >= n). */
export function lowerMedian(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
}

/** RoundSettlement.SCORE_AGREEMENT_PPM: a seat's score agrees with the median within this. */
export const SCORE_AGREEMENT_PPM = 1_000;

/**
 * The holder of each seat whose score agrees (RoundSettlement._countAgreements): within
 * SCORE_AGREEMENT_PPM of the median and of another holder's score, unless one holder has all the seats.
 */
export function agreeingHolders(holders: readonly string[], values: readonly number[], median: number): string[] {
  const oneHolder = holders.every((h) => h === holders[0]);
  return holders.filter(
    (holder, t) =>
      Math.abs(values[t]! - median) <= SCORE_AGREEMENT_PPM &&
      (oneHolder || values.some((v, u) => holders[u] !== holder && Math.abs(v - values[t]!) <= SCORE_AGREEMENT_PPM)),
  );
}

/** Per validator (lowercased), its seats' scores that agreed with their update's median, summed over `updates`. */
export function agreementsOf(updates: readonly { agreeing: readonly string[] }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const u of updates) for (const holder of u.agreeing) counts.set(holder, (counts.get(holder) ?? 0) + 1);
  return counts;
}

/**
 * What settlement decides for revealed update `index` (TypeScript reference): the scores its
 * k seats' holders revealed (`scores[holder]`, indexed by reveal order; holders without a
 * revealed vote are absent), their lower median, whether the update is decided, accepted and
 * invalid (every revealed seat scored 0). `scorers` are the seats of `scorersOf(index)`.
 */
export function expectedUpdate(
  committee: readonly string[],
  scorers: readonly bigint[],
  revealedScores: Map<string, readonly number[]>,
  index: number,
  acceptScorePpm: number,
) {
  const values: number[] = [];
  const holders: string[] = [];
  for (const seat of scorers) {
    const holder = committee[Number(seat)]!.toLowerCase();
    const scores = revealedScores.get(holder);
    if (scores) {
      values.push(scores[index] ?? 0);
      holders.push(holder);
    }
  }
  const median = lowerMedian(values);
  const decided = values.length >= Math.floor(scorers.length / 2) + 1;
  const zeros = values.filter((v) => v === 0).length;
  return {
    scorers: values.length,
    /** The holder of each revealed seat whose score is within SCORE_AGREEMENT_PPM of the median (the validator pool's weights). */
    agreeing: decided ? agreeingHolders(holders, values, median) : [],
    median,
    decided,
    accepted: decided && median >= acceptScorePpm,
    invalid: decided && zeros === values.length,
  };
}

/** Settles `round` in batches of `batch` items; returns the receipts. */
export async function settleRound(d: RunDeployment, round: bigint, batch = 1024) {
  const receipts = [];
  for (let i = 0; i < 10_000; i++) {
    const info = await d.run.currentRound();
    if (info.round !== round || info.finalized) return receipts;
    receipts.push(await send(d.run.finalizeRound(round, batch)));
  }
  throw new Error("settleRound: the round never settled");
}

/**
 * Plays the current round: commits (revealers then silent), reveals (revealers, in order),
 * fixes the randomness, commits the votes of the committee members among `votes`, reveals
 * them, moves past the vote-reveal deadline and settles. Returns the round, its info at the
 * start, the updates, the committee and the last settlement receipt.
 */
export async function playRound(d: RunDeployment, plan: RoundPlan) {
  const info = await d.run.currentRound();
  const round = info.round;
  const updates = new Map(plan.updates ?? []);
  for (const t of [...plan.revealers, ...(plan.silent ?? [])]) {
    const u = updates.get(t.address) ?? makeUpdate(t.address, round);
    updates.set(t.address, u);
    await send(d.run.connect(t).commit(round, commitmentOf({ runId: d.runId, round, node: t.address as Address, ...u })));
  }
  await timeTo(d, info.commitDeadline);
  if (plan.committeeWhere) await fixRandomnessWhere(d, round, plan.committeeWhere);
  for (const t of plan.revealers) {
    const u = updates.get(t.address)!;
    await send(d.run.connect(t).reveal(round, u.cid, u.contentHash, u.samples, u.salt));
  }
  await timeTo(d, info.revealDeadline);
  await fixRandomness(d, round);
  const committee = [...(await d.run.committee())];
  const votes = typeof plan.votes === "function" ? plan.votes(committee) : plan.votes;
  const cast: { plan: VotePlan; seatLengths: number[]; scores: number[]; salt: string; evalLoss: bigint }[] = [];
  for (const v of votes) {
    if (!committee.some((a) => a.toLowerCase() === v.validator.address.toLowerCase())) continue;
    const shaped = await voteFor(d, v.validator.address, v.scores);
    const salt = keccak256(Buffer.from(`vote-salt:${v.validator.address}:${round}`));
    const evalLoss = v.evalLoss ?? 500_000_000n;
    const commitment = voteCommitmentOf({
      runId: d.runId,
      round,
      validator: v.validator.address,
      ...shaped,
      modelHash: v.modelHash,
      evalLoss,
      salt,
    });
    await send(d.run.connect(v.validator).commitVote(round, commitment));
    cast.push({ plan: v, ...shaped, salt, evalLoss });
  }
  await timeTo(d, info.scoreDeadline);
  for (const c of cast) {
    if (c.plan.reveal === false) continue;
    await send(
      d.run
        .connect(c.plan.validator)
        .revealVote(round, c.seatLengths, c.scores, c.plan.modelHash, c.evalLoss, c.salt),
    );
  }
  await timeTo(d, info.voteRevealDeadline);
  let receipt;
  if (plan.finalize !== false) {
    const receipts = await settleRound(d, round, plan.batch ?? 1024);
    receipt = receipts[receipts.length - 1];
  }
  return { round, info, updates, committee, receipt };
}

/** The model hash honest validators attest in tests. */
export const AGREED_HASH = keccak256(Buffer.from("aggregated model"));
export const OTHER_HASH = keccak256(Buffer.from("a different model"));

/** EIP-7825: no transaction may use more gas than this (EDR enforces it). */
export const TX_GAS_CAP = 16_777_216n;

/** A keeper may pass any maxItems: the contract caps one call at 512 items, 64 slashes and a
 *  gas budget for its items (RoundSettlement.ITEMS_GAS_BUDGET). */
export const MAX_ITEMS_PER_CALL = 512;
export const MAX_SLASHES_PER_CALL = 64;

/**
 * The most expensive settlement the parameter bounds allow, set up and ready to settle: 1,024
 * revealed updates scored by k = C = 16 seats held by 16 distinct validators (the most votes a
 * round can have, drawn from a full set of 64). In each block of 512 updates the first 448 are
 * accepted (a 16-score median, reward points: ~34k gas each) and the last 64 invalid (the
 * median, then a slash: ~160k each). 9 committee members reveal (6 attest the agreed hash, 3
 * another: 3 disagreement slashes), 7 commit and never reveal (7 VoteNotRevealed slashes), so
 * the closing call adds 10 validator slashes, the mint and the trainer pool.
 */
export async function prepareWorstCaseRound(
  connection: Pick<NetworkConnection, "ethers" | "networkHelpers">,
) {
  const maxNodes = 2 * MAX_ITEMS_PER_CALL;
  const committeeSize = 16;
  const params: RunParams = {
    ...TEST_RUN_PARAMS,
    maxNodesPerRound: maxNodes,
    trainerSeats: maxNodes,
    committeeSize,
    scorersPerUpdate: committeeSize,
  };
  const d = await deployRun(connection, {
    trainers: maxNodes,
    validators: 64,
    params,
    trainerStake: BigInt(params.minTrainerStake),
    validatorStake: BigInt(params.minValidatorStake),
  });
  const invalid = (i: number) => i % MAX_ITEMS_PER_CALL >= MAX_ITEMS_PER_CALL - MAX_SLASHES_PER_CALL;
  const { round, committee } = await playRound(d, {
    revealers: d.trainers,
    committeeWhere: (seats) => seatCounts(seats).size === committeeSize,
    votes: (seats) =>
      seats.map((holder, j) => ({
        validator: d.validators.find((v) => v.address === holder)!,
        scores: d.trainers.map((_, i) => (invalid(i) ? 0 : 900_000 - 1_000 * j)),
        modelHash: j < 6 ? AGREED_HASH : OTHER_HASH,
        reveal: j < 9,
      })),
    finalize: false,
  });
  return { d, round, committee, maxNodes, committeeSize, invalid };
}
