import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { isAddressEqual, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { DEFAULT_RUN_PARAMS } from "../../../ignition/modules/defaults.js";
import { connectSigner } from "../chain/client.js";
import { enumName, SLASH_REASONS } from "../chain/contract-enums.js";
import { Conductor } from "../devnet/conductor.js";
import { DEVNET_MNEMONIC } from "../devnet/dev-keys.js";
import { spawnNode, stopNode, type NodeProcess } from "../devnet/node-process.js";
import { startDevnet } from "../devnet/start-devnet.js";
import { ChainHistory, roundsOf } from "../history/index.js";
import type { Logger } from "../observe/logger.js";
import type { ScenarioRecord, ScenarioUpdate } from "./redteam-table.js";

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

/**
 * One red-team scenario: a fresh local network built the way `npm start` builds one (hardhat
 * node, Ignition deployment, every node a `protolearn node start` process with its own Helia
 * peer), `rounds` rounds played by the conductor, then the run's chain records (ChainHistory)
 * and the validators' logs reduced to a {@link ScenarioRecord}. The same dev keys every time, so
 * the all-honest baseline runs on the same accounts and data shards.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioRecord> {
  const started = Date.now();
  const { trainers: trainerCount, validators: validatorCount, rounds, logger } = options;
  await rm(options.outDir, { recursive: true, force: true });
  await mkdir(join(options.outDir, "logs"), { recursive: true });
  const devnet = await startDevnet({
    chain: "hardhat",
    port: options.port,
    accounts: trainerCount + validatorCount,
    validators: validatorCount,
    outDir: options.outDir,
    network: "redteam",
    deploymentsDir: join(options.outDir, "deployments"),
    join: true,
    parameters: DEVNET_PARAMETERS,
  });
  const nodes: { index: number; role: "trainer" | "validator"; adversary: boolean; process: NodeProcess }[] = [];
  try {
    const deployer = await connectSigner({
      rpcUrl: devnet.chain.rpcUrl,
      deployment: devnet.deployment,
      runId: 1,
      account: mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 0 }),
    });
    const conductor = new Conductor(deployer, devnet.chain.rpcUrl, logger, { patienceMs: 120_000 });
    const ordered = [...devnet.accounts].sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === "validator" ? -1 : 1));
    const trainerAccounts = ordered.filter((a) => a.role === "trainer");
    const adversaries = options.adversary === "none" ? 0 : Math.max(1, Math.ceil(options.adversaryShare * trainerCount));
    const adversarial = new Set(trainerAccounts.slice(trainerAccounts.length - adversaries).map((a) => a.index));
    for (const account of ordered) {
      const isAdversary = adversarial.has(account.index);
      const process = await spawnNode({
        name: `node-${account.index}`,
        address: account.address,
        configPath: account.configPath,
        password: devnet.password,
        logFile: join(options.outDir, "logs", `node-${account.index}.log`),
        peers: nodes.map((n) => n.process.multiaddr),
        keeper: account.role === "validator",
        env: { PROTOLEARN_DEPLOYMENTS: join(options.outDir, "deployments") },
        ...(isAdversary ? { adversary: { strategy: options.adversary, factor: options.factor } } : {}),
      });
      nodes.push({ index: account.index, role: account.role, adversary: isAdversary, process });
    }
    const trainerAddresses = trainerAccounts.map((a) => a.address);
    for (let round = 1; round <= rounds; round++) {
      const next = await conductor.playRound({ trainers: trainerAddresses, validators: validatorCount });
      logger.info("round played", { adversary: options.adversary, round, next: next.round });
    }
    for (const node of nodes) await stopNode(node.process);

    const history = new ChainHistory({ client: deployer.publicClient, deployment: devnet.deployment });
    await history.sync();
    const records = roundsOf(history.run(1)).filter((r) => r.round >= 1 && r.round <= rounds);
    const validators = nodes.filter((n) => n.role === "validator");
    const duplicates = new Set<string>();
    const accuracyByRound = new Map<number, number>();
    for (const v of validators) {
      for (const e of v.process.events) {
        if (e.event === "scored" && e.reason === "duplicate" && typeof e.node === "string") duplicates.add(`${String(e.round)}:${e.node.toLowerCase()}`);
        if (e.event === "vote ready" && typeof e.round === "number" && typeof e.accuracy === "number") accuracyByRound.set(e.round, e.accuracy);
      }
    }
    const isAdversary = (address: Address): boolean =>
      nodes.some((n) => n.adversary && isAddressEqual(n.process.address, address));
    const updates: ScenarioUpdate[] = [];
    const rewards: Record<string, number> = {};
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
      if (record.result?.kind === "agreed") {
        agreedRounds++;
        finalLoss = Number(record.result.evalLoss) / 1e9;
      }
    }
    const lastMeasured = [...accuracyByRound.keys()].filter((r) => r <= rounds).sort((a, b) => b - a)[0];
    return {
      adversary: options.adversary,
      rounds,
      trainers: trainerAccounts.map((a) => ({ address: a.address.toLowerCase(), adversary: adversarial.has(a.index) })),
      validators: validatorCount,
      updates,
      rewards,
      slashes: records.flatMap((r) => r.slashes.map((s) => ({ node: s.node.toLowerCase(), reason: enumName(SLASH_REASONS, s.reason), round: r.round }))),
      finalAccuracy: lastMeasured === undefined ? undefined : accuracyByRound.get(lastMeasured),
      finalLoss,
      agreedRounds,
      elapsedSeconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    for (const node of nodes) await stopNode(node.process);
    await devnet.stop();
  }
}
