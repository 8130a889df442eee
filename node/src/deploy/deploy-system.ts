import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NetworkConnection } from "hardhat/types/network";
import { governanceFor } from "../../../ignition/modules/defaults.js";
import ProtolearnModule from "../../../ignition/modules/Protolearn.js";
import { ProtolearnError } from "../errors.js";
import { createModel, modelNameForId } from "../model/registry.js";
import { genesisModel } from "../run/genesis.js";

/** Model of run #1 unless the parameters say otherwise; its genesis hash is computed here. */
export const DEFAULT_MODEL = "mnist-mlp-v1";

/** What deployments/<network>.json holds (chain/deployment.ts reads and validates it). */
export interface DeploymentRecord {
  network: string;
  chainId: number;
  /** First block to scan for the system's events (the block before the first deploy tx). */
  deploymentBlock: number;
  deployedAt: string;
  contracts: Record<
    "LearnToken" | "RunTimelock" | "RunGovernor" | "StakeManager" | "TrainingRunImplementation" | "RunFactory",
    string
  >;
  runs: { runId: number; address: string }[];
}

/** Parameters of the Ignition module `Protolearn` (ignition/modules/Protolearn.ts). */
export type IgnitionParameters = Record<string, unknown>;

export interface DeploySystemParameters {
  /** An open Hardhat network connection (`network.create()`, or deploy/hardhat-connection.ts). */
  connection: NetworkConnection;
  /** Name of the record: `<outDir>/<networkName>.json`. */
  networkName: string;
  /** Module parameters on top of the defaults (e.g. a short timelockDelay, runParams). */
  parameters?: IgnitionParameters;
  /** @default "deployments" */
  outDir?: string;
}

/**
 * The registry name of run #1's model: the one `parameters.runParams.modelId` names (keccak256 of
 * the name), else {@link DEFAULT_MODEL}. The genesis hash and CID are computed for it.
 */
export function runModelName(parameters: IgnitionParameters | undefined): string {
  const runParams = parameters?.runParams as { modelId?: unknown } | undefined;
  const modelId = runParams?.modelId;
  if (modelId === undefined) return DEFAULT_MODEL;
  const name = typeof modelId === "string" && /^0x[0-9a-fA-F]{64}$/.test(modelId) ? modelNameForId(modelId as `0x${string}`) : undefined;
  if (name === undefined) {
    throw new ProtolearnError(`runParams.modelId ${String(modelId)} is not a model this build knows`, {
      code: "DEPLOY_MODEL_UNKNOWN",
      fix: 'set runParams.modelId to keccak256 of a registry model name, e.g. id("byte-transformer-v1") (ethers) or modelIdFromName("byte-transformer-v1")',
    });
  }
  return name;
}

/**
 * Deploys the whole system (token, timelock, governor, stake manager, run factory and run #1)
 * through the Ignition module over an open Hardhat connection, with run #1's genesis model
 * (of the model `runParams.modelId` names, MNIST MLP by default) computed here, and writes the deployment record to `<outDir>/<networkName>.json`.
 *
 * @example
 * const connection = await network.create({ network: "anvil", override: { url: chain.rpcUrl } });
 * try {
 *   const record = await deploySystem({ connection, networkName: "anvil", outDir });
 * } finally {
 *   await connection.close();
 * }
 */
export async function deploySystem(options: DeploySystemParameters): Promise<DeploymentRecord> {
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
  const genesis = await genesisModel(createModel(runModelName(options.parameters)));
  // Governance timing and threshold by network (short on devnets, days on public networks),
  // then whatever the caller sets explicitly.
  const parameters = {
    initialModelHash: genesis.hash,
    initialModelCid: genesis.cid,
    ...governanceFor(options.networkName),
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
