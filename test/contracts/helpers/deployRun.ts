import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { AbiCoder, type ContractTransactionResponse, id, keccak256, Wallet } from "ethers";
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

  await send(
    factory.connect(governance).createRun(options.params, INITIAL_MODEL_HASH, INITIAL_MODEL_CID),
  );
  const runId = await factory.runCount();
  const run = await ethers.getContractAt("TrainingRun", await factory.runOf(runId));

  const trainers = await fundedWallets(core, "trainer", options.trainers, options.trainerStake);
  const validators = await fundedWallets(
    core,
    "validator",
    options.validators,
    options.validatorStake,
  );
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
  /** committee members' votes (a validator without a seat is skipped) */
  votes: VotePlan[];
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
  for (const t of plan.revealers) {
    const u = updates.get(t.address)!;
    await send(d.run.connect(t).reveal(round, u.cid, u.contentHash, u.samples, u.salt));
  }
  await timeTo(d, info.revealDeadline);
  await fixRandomness(d, round);
  const committee = await d.run.committee();
  const cast: { plan: VotePlan; seatLengths: number[]; scores: number[]; salt: string; evalLoss: bigint }[] = [];
  for (const v of plan.votes) {
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

/**
 * The most expensive finalize the parameter bounds allow, set up and ready to finalize: 64
 * revealed updates that will all be invalid (64 slashes), 16 validators of which 15 light ones
 * disagree with a heavy 2/3 majority (15 more slashes), scores submitted in the order that makes
 * the median's insertion sort shift every entry. Returns the round to finalize.
 */
export async function prepareWorstCaseRound(
  connection: Pick<NetworkConnection, "ethers" | "networkHelpers">,
) {
  const maxNodes = 64;
  const maxValidators = 16;
  const params: RunParams = { ...TEST_RUN_PARAMS, maxNodesPerRound: maxNodes, maxValidators };
  const d = await deployRun(connection, {
    trainers: maxNodes,
    validators: maxValidators - 1,
    params,
  });
  // a validator joining after the minimum rose 100-fold holds 100 / 115 of the voting stake
  await send(
    d.run
      .connect(d.governance)
      .setParams({ ...params, minValidatorStake: 100n * BigInt(params.minValidatorStake) }),
  );
  await playRound(d, { revealers: [], votes: [] });
  const [heavy] = await fundedWallets(d.core, "worst-case-heavy", 1, 100_000n * ONE);
  await send(d.run.connect(heavy!).join(Role.Validator));
  const { round } = await playRound(d, {
    revealers: d.trainers,
    votes: [
      // descending values, then the heavy zero last: every insertion shifts all earlier entries
      ...d.validators.map((v, k) => ({
        validator: v,
        scores: d.trainers.map(() => 1_000_000 - 1_000 * k),
        modelHash: OTHER_HASH,
      })),
      { validator: heavy!, scores: d.trainers.map(() => 0), modelHash: AGREED_HASH },
    ],
    finalize: false,
  });
  return { d, round, maxNodes, maxValidators };
}
