import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { isAddressEqual, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { DEFAULT_RUN_PARAMS } from "../../../ignition/modules/defaults.js";
import { approve, raiseLock, stake } from "../chain/actions/index.js";
import { connectSigner } from "../chain/client.js";
import { TRAINER_ADVERSARIES, VALIDATOR_ADVERSARIES } from "../daemon/adversary.js";
import { enumName, SLASH_REASONS } from "../chain/contract-enums.js";
import { Conductor } from "../devnet/conductor.js";
import { DEVNET_MNEMONIC } from "../devnet/dev-keys.js";
import { killNode, spawnNode, stopNode, type NodeProcess } from "../devnet/node-process.js";
import { startRpcProxy, type RpcProxy } from "../devnet/rpc-proxy.js";
import { startDevnet } from "../devnet/start-devnet.js";
import { ChainHistory, roundsOf } from "../history/index.js";
import type { Logger } from "../observe/logger.js";
import type { ScenarioRecord, ScenarioUpdate } from "./redteam-table.js";
import { accruedRewards, checkSoak, FaultInjector } from "./soak-faults.js";

/** The scenario of an all-honest network under random faults (kills, reorgs, RPC outages): `--scenario soak`. */
export const SOAK_SCENARIO = "soak";

export interface ScenarioOptions {
  /** Adversary strategy of node-start's testing-only `--adversary` flag; "none": the all-honest baseline. */
  adversary: string;
  /** Factor of sign-flip / scale. */
  factor: number;
  trainers: number;
  validators: number;
  /** Share of the trainers that run the adversary (rounded up; at least 1 unless "none"). */
  adversaryShare: number;
  rounds: number;
  port: number;
  outDir: string;
  logger: Logger;
}

/** Devnet parameters, as `npm start` uses them: long phases in chain time (the conductor warps). */
const DEVNET_PARAMETERS = {
  runParams: { ...DEFAULT_RUN_PARAMS, commitDuration: 600, revealDuration: 600, scoreDuration: 600, voteRevealDuration: 600 },
  timelockDelay: 60n,
  votingDelay: 1n,
  votingPeriod: 10n,
};

/** seat-fill: scarce trainer seats (4 expected per round for 8 trainers), so seats are contested. */
const SCARCE_TRAINER_SEATS = 4;

/**
 * How a scenario's network is shaped: the validator identities added for a validator-side class
 * (`options.validators` honest ones stay), and the honest validators' lock in minimum locks.
 * - vote-copy, collude-zero: one more validator, 1/4 of the validator stake;
 * - withhold: two more, 2/5 of the stake (above the 1/3 that blocks a 2/3 majority);
 * - split-stake: two more identities at one minimum lock each, the honest ones at two: the
 *   operator's two identities hold 1/4 of the stake (3 honest validators).
 */
export function scenarioShape(adversary: string, honestValidators: number): { extraValidators: number; honestLockMultiple: number; validatorSide: boolean; trainerSide: boolean } {
  const validatorSide = (VALIDATOR_ADVERSARIES as readonly string[]).includes(adversary);
  const trainerSide = (TRAINER_ADVERSARIES as readonly string[]).includes(adversary);
  if (adversary === "withhold") return { extraValidators: Math.max(2, Math.floor((2 * honestValidators) / 3)), honestLockMultiple: 1, validatorSide, trainerSide };
  if (adversary === "split-stake") return { extraValidators: 2, honestLockMultiple: Math.max(1, Math.round((2 * 3) / honestValidators)), validatorSide, trainerSide };
  if (validatorSide) return { extraValidators: Math.max(1, Math.ceil(honestValidators / 3)), honestLockMultiple: 1, validatorSide, trainerSide };
  return { extraValidators: 0, honestLockMultiple: 1, validatorSide, trainerSide };
}

/**
 * One red-team scenario: a fresh local network built the way `npm start` builds one (hardhat
 * node, Ignition deployment, every node a `protolearn node start` process with its own Helia
 * peer), `rounds` rounds played by the conductor, then the run's chain records (ChainHistory)
 * and the validators' logs reduced to a {@link ScenarioRecord}. The same dev keys every time, so
 * the all-honest baseline runs on the same accounts and data shards.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioRecord> {
  const started = Date.now();
  const { trainers: trainerCount, rounds, logger } = options;
  const shape = scenarioShape(options.adversary, options.validators);
  const validatorCount = options.validators + shape.extraValidators;
  await rm(options.outDir, { recursive: true, force: true });
  await mkdir(join(options.outDir, "logs"), { recursive: true });
  const parameters =
    options.adversary === "seat-fill"
      ? { ...DEVNET_PARAMETERS, runParams: { ...DEVNET_PARAMETERS.runParams, trainerSeats: SCARCE_TRAINER_SEATS } }
      : DEVNET_PARAMETERS;
  const soak = options.adversary === SOAK_SCENARIO;
  const devnet = await startDevnet({
    // reorgs need anvil (anvil_reorg); the other scenarios run on a hardhat node as npm start does
    chain: soak ? "anvil" : "hardhat",
    port: options.port,
    accounts: trainerCount + validatorCount,
    validators: validatorCount,
    outDir: options.outDir,
    network: "redteam",
    deploymentsDir: join(options.outDir, "deployments"),
    join: true,
    parameters,
  });
  const nodes: { index: number; role: "trainer" | "validator"; adversary: boolean; process: NodeProcess }[] = [];
  // the events of processes that a soak fault replaced
  const pastEvents: { index: number; events: Record<string, unknown>[] }[] = [];
  let proxy: RpcProxy | undefined;
  try {
    if (soak) proxy = await startRpcProxy(devnet.chain.rpcUrl);
    const deployer = await connectSigner({
      rpcUrl: devnet.chain.rpcUrl,
      deployment: devnet.deployment,
      runId: 1,
      account: mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 0 }),
    });
    const conductor = new Conductor(deployer, devnet.chain.rpcUrl, logger, { patienceMs: 120_000, mode: soak ? "anvil" : "hardhat" });
    const ordered = [...devnet.accounts].sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === "validator" ? -1 : 1));
    const trainerAccounts = ordered.filter((a) => a.role === "trainer");
    const validatorAccounts = ordered.filter((a) => a.role === "validator");
    const adversaries = shape.trainerSide ? Math.max(1, Math.ceil(options.adversaryShare * trainerCount)) : 0;
    const adversarial = new Set([
      ...trainerAccounts.slice(trainerAccounts.length - adversaries).map((a) => a.index),
      ...validatorAccounts.slice(validatorAccounts.length - shape.extraValidators).map((a) => a.index),
    ]);
    // split-stake: the honest validators lock more, so that the split operator holds 1/4 of the stake
    const locks = new Map(devnet.accounts.map((a) => [a.index, a.joinStake]));
    if (shape.honestLockMultiple > 1) {
      for (const account of validatorAccounts.filter((a) => !adversarial.has(a.index))) {
        const signer = await connectSigner({ rpcUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, runId: 1, account: mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: account.index }) });
        const added = account.joinStake * BigInt(shape.honestLockMultiple - 1);
        await approve(signer, { spender: signer.contracts.stakeManager.address, amount: added });
        await stake(signer, { amount: added });
        await raiseLock(signer, { added });
        locks.set(account.index, account.joinStake + added);
      }
    }
    const target = options.adversary === "collude-zero" ? trainerAccounts[0]?.address : undefined;
    const launch = (account: (typeof ordered)[number], peers: string[]): Promise<NodeProcess> => {
      const isAdversary = adversarial.has(account.index);
      return spawnNode({
        name: `node-${account.index}`,
        address: account.address,
        configPath: account.configPath,
        password: devnet.password,
        logFile: join(options.outDir, "logs", `node-${account.index}.log`),
        peers,
        keeper: account.role === "validator",
        env: { PROTOLEARN_DEPLOYMENTS: join(options.outDir, "deployments"), ...(proxy === undefined ? {} : { PROTOLEARN_RPC_URL: proxy.url }) },
        ...(isAdversary ? { adversary: { strategy: options.adversary, factor: options.factor, ...(target === undefined ? {} : { target }) } } : {}),
      });
    };
    for (const account of ordered) {
      const process = await launch(account, nodes.map((n) => n.process.multiaddr));
      nodes.push({ index: account.index, role: account.role, adversary: adversarial.has(account.index), process });
    }
    const injector =
      proxy === undefined
        ? undefined
        : new FaultInjector(
            {
              nodes: () => nodes.map((n) => n.process.name),
              restart: async (name, downMs) => {
                const node = nodes.find((n) => n.process.name === name);
                const account = ordered.find((a) => a.index === node?.index);
                if (node === undefined || account === undefined) return;
                await killNode(node.process);
                pastEvents.push({ index: node.index, events: node.process.events });
                await new Promise((r) => setTimeout(r, downMs));
                node.process = await launch(account, nodes.filter((n) => n !== node).map((n) => n.process.multiaddr));
              },
              proxy,
              rpcUrl: devnet.chain.rpcUrl,
              publicClient: deployer.publicClient,
            },
            "1",
          );
    const trainerAddresses = trainerAccounts.map((a) => a.address);
    for (let round = 1; round <= rounds; round++) {
      const startBlock = await deployer.publicClient.getBlockNumber();
      const fault = injector?.during(round, startBlock);
      const next = await conductor.playRound({ trainers: trainerAddresses, validators: validatorCount });
      await fault;
      logger.info("round played", { adversary: options.adversary, round, next: next.round });
    }
    // a soak settles the last round even when a fault delayed it
    if (soak) {
      for (let tries = 0; tries < 3 && Number((await deployer.contracts.run.read.currentRound()).round) <= rounds; tries++) {
        await conductor.playRound({ trainers: trainerAddresses, validators: validatorCount });
      }
    }
    for (const node of nodes) await stopNode(node.process);

    const history = new ChainHistory({ client: deployer.publicClient, deployment: devnet.deployment });
    await history.sync();
    const records = roundsOf(history.run(1)).filter((r) => r.round >= 1 && r.round <= rounds);
    const validators = nodes.filter((n) => n.role === "validator");
    const duplicates = new Set<string>();
    const accuracyByRound = new Map<number, number>();
    for (const v of validators) {
      for (const e of [...v.process.events, ...pastEvents.filter((p) => p.index === v.index).flatMap((p) => p.events)]) {
        if (e.event === "scored" && e.reason === "duplicate" && typeof e.node === "string") duplicates.add(`${String(e.round)}:${e.node.toLowerCase()}`);
        if (e.event === "vote ready" && typeof e.round === "number" && typeof e.accuracy === "number") accuracyByRound.set(e.round, e.accuracy);
      }
    }
    const isAdversary = (address: Address): boolean =>
      nodes.some((n) => n.adversary && isAddressEqual(n.process.address, address));
    const updates: ScenarioUpdate[] = [];
    const rewards: Record<string, number> = {};
    const validatorRewards: Record<string, number> = {};
    const seats: Record<string, number> = {};
    let finalLoss: number | undefined;
    let agreedRounds = 0;
    for (const record of records) {
      const committed = new Set(record.commits.map((c) => c.node.toLowerCase()));
      for (const node of committed) {
        const outcome = record.outcomes.find((o) => o.node.toLowerCase() === node);
        const slashed = record.slashes.some((s) => s.node.toLowerCase() === node && enumName(SLASH_REASONS, s.reason) === "InvalidUpdate");
        const revealed = record.reveals.some((r) => r.node.toLowerCase() === node);
        updates.push({
          round: record.round,
          node,
          adversary: isAdversary(node as Address),
          outcome: slashed ? "slashed" : !revealed ? "no-reveal" : outcome?.accepted ? "accepted" : "rejected",
          duplicate: duplicates.has(`${record.round}:${node}`),
        });
      }
      for (const o of record.outcomes) rewards[o.node.toLowerCase()] = (rewards[o.node.toLowerCase()] ?? 0) + Number(BigInt(o.reward)) / 1e18;
      for (const s of record.settlements) validatorRewards[s.validator.toLowerCase()] = (validatorRewards[s.validator.toLowerCase()] ?? 0) + Number(BigInt(s.reward)) / 1e18;
      for (const holder of record.committee ?? []) seats[holder.toLowerCase()] = (seats[holder.toLowerCase()] ?? 0) + 1;
      if (record.result?.kind === "agreed") {
        agreedRounds++;
        finalLoss = Number(record.result.evalLoss) / 1e9;
      }
    }
    const lastMeasured = [...accuracyByRound.keys()].filter((r) => r <= rounds).sort((a, b) => b - a)[0];
    return {
      adversary: options.adversary,
      rounds,
      trainers: trainerAccounts.map((a) => ({ address: a.address.toLowerCase(), adversary: adversarial.has(a.index), lock: Number(locks.get(a.index) ?? 0n) / 1e18 })),
      validators: validatorCount,
      validatorSide: {
        validators: validatorAccounts.map((a) => ({ address: a.address.toLowerCase(), adversary: adversarial.has(a.index), lock: Number(locks.get(a.index) ?? 0n) / 1e18 })),
        rewards: validatorRewards,
        seats,
      },
      ...(target === undefined ? {} : { target: target.toLowerCase() }),
      updates,
      rewards,
      slashes: records.flatMap((r) => r.slashes.map((s) => ({ node: s.node.toLowerCase(), reason: enumName(SLASH_REASONS, s.reason), round: r.round }))),
      finalAccuracy: lastMeasured === undefined ? undefined : accuracyByRound.get(lastMeasured),
      finalLoss,
      agreedRounds,
      elapsedSeconds: Math.round((Date.now() - started) / 1000),
      ...(injector === undefined
        ? {}
        : {
            soak: {
              faults: injector.injected,
              checks: checkSoak(roundsOf(history.run(1)), await accruedRewards(async (node) => deployer.contracts.run.read.memberOf([node]), trainerAccounts.map((a) => a.address))),
              modelDiverged: [...nodes.flatMap((n) => n.process.events), ...pastEvents.flatMap((p) => p.events)].filter((e) => e.event === "stopping: model diverged").length,
            },
          }),
    };
  } finally {
    for (const node of nodes) await stopNode(node.process);
    await proxy?.close();
    await devnet.stop();
  }
}
