/**
 * Deploys the protolearn system (Ignition module ignition/modules/Protolearn.ts) to a network
 * and writes deployments/<network>.json, which nodes, the CLI and the explorer read.
 *
 *   npx tsx scripts/deploy.ts --network localhost|anvil|sepolia|baseSepolia [--rpc-url URL]
 *                             [--parameters file.json] [--out deployments]
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import ProtolearnModule from "../ignition/modules/Protolearn.js";
import { createModel } from "../node/src/model/registry.js";
import { genesisModel } from "../node/src/run/genesis.js";

/** Model of run #1 unless the parameters say otherwise; its genesis hash is computed here. */
export const DEFAULT_MODEL = "mnist-mlp-v1";

/** What deployments/<network>.json holds. */
export interface DeploymentRecord {
  network: string;
  chainId: number;
  /** First block to scan for the system's events (the block before the first deploy tx). */
  deploymentBlock: number;
  deployedAt: string;
  contracts: Record<"LearnToken" | "RunTimelock" | "RunGovernor" | "StakeManager" | "TrainingRunImplementation" | "RunFactory", string>;
  runs: { runId: number; address: string }[];
}

export type IgnitionParameters = Record<string, unknown>;

/** Deploys over an open Hardhat connection and returns the record (also written to `outDir`). */
export async function deploySystem(options: {
  connection: NetworkConnection;
  networkName: string;
  parameters?: IgnitionParameters;
  outDir?: string;
}): Promise<DeploymentRecord> {
  const { connection } = options;
  const { ethers, ignition } = connection as NetworkConnection & {
    ethers: typeof import("ethers") & { provider: import("ethers").Provider };
    ignition: {
      deploy: (
        module: typeof ProtolearnModule,
        opts: { parameters?: Record<string, IgnitionParameters>; displayUi?: boolean; deploymentId?: string },
      ) => Promise<Record<string, { getAddress(): Promise<string> }>>;
    };
  };
  const provider = ethers.provider;
  const startBlock = await provider.getBlockNumber();
  const chainId = Number((await provider.getNetwork()).chainId);
  const genesis = await genesisModel(createModel(DEFAULT_MODEL));
  const parameters = {
    initialModelHash: genesis.hash,
    initialModelCid: genesis.cid,
    ...(options.parameters ?? {}),
  };
  const deployed = await ignition.deploy(ProtolearnModule, {
    parameters: { Protolearn: parameters },
    displayUi: false,
    // A fresh id per chain start: re-running against a restarted devnet must not resume an old journal.
    deploymentId: `protolearn-${chainId}-${startBlock}-${Date.now()}`,
  });
  const address = async (key: string): Promise<string> => {
    const contract = (deployed as Record<string, { getAddress(): Promise<string> } | undefined>)[key];
    if (contract === undefined) throw new Error(`the Ignition module returned no ${key}`);
    return contract.getAddress();
  };
  const record: DeploymentRecord = {
    network: options.networkName,
    chainId,
    deploymentBlock: startBlock,
    deployedAt: new Date().toISOString(),
    contracts: {
      LearnToken: await address("token"),
      RunTimelock: await address("timelock"),
      RunGovernor: await address("governor"),
      StakeManager: await address("stakeManager"),
      TrainingRunImplementation: await address("implementation"),
      RunFactory: await address("factory"),
    },
    runs: [{ runId: 1, address: await address("run") }],
  };
  const outDir = options.outDir ?? "deployments";
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${options.networkName}.json`), JSON.stringify(record, null, 2) + "\n");
  return record;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      network: { type: "string", default: "localhost" },
      "rpc-url": { type: "string" },
      parameters: { type: "string" },
      out: { type: "string", default: "deployments" },
    },
  });
  const networkName = values.network ?? "localhost";
  const parameters = values.parameters
    ? (JSON.parse(await readFile(values.parameters, "utf8")) as IgnitionParameters)
    : undefined;
  const connection = await network.create({
    network: networkName,
    ...(values["rpc-url"] ? { override: { url: values["rpc-url"] } } : {}),
  });
  try {
    const record = await deploySystem({ connection, networkName, parameters, outDir: values.out });
    console.log(JSON.stringify(record, null, 2));
  } finally {
    await connection.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
