import { plainStep, type StepRunner } from "../observe/step-runner.js";
import { deploySystem, type DeploymentRecord, type IgnitionParameters } from "./deploy-system.js";
import { connectHardhat, explainHardhatError } from "./hardhat-connection.js";

export interface DeployNetworkParameters {
  /** A Hardhat network of hardhat.config.ts: localhost | anvil | sepolia | baseSepolia. */
  networkName: string;
  /** Name of the record written. @default networkName */
  recordName?: string;
  /** Overrides the network's RPC URL. */
  rpcUrl?: string;
  parameters?: IgnitionParameters;
  /** Folder of deployment records. */
  outDir: string;
  /** Runs the deployment as one labelled step. @default plainStep */
  step?: StepRunner;
}

/**
 * Connects to `networkName` through Hardhat (building the contracts first), deploys the system
 * with {@link deploySystem} and writes `<outDir>/<recordName>.json`; the connection is closed
 * again either way.
 *
 * @example
 * const record = await deployNetwork({ networkName: "localhost", outDir: "deployments" });
 */
export async function deployNetwork(options: DeployNetworkParameters): Promise<DeploymentRecord> {
  const connection = await connectHardhat(options.networkName, options.rpcUrl);
  try {
    const step = options.step ?? plainStep;
    return await step(`deploying protolearn to ${options.networkName}`, () =>
      deploySystem({
        connection,
        networkName: options.recordName ?? options.networkName,
        outDir: options.outDir,
        ...(options.parameters !== undefined ? { parameters: options.parameters } : {}),
      }),
    ).catch((err: unknown) => {
      throw explainHardhatError(err, options.networkName);
    });
  } finally {
    await connection.close();
  }
}
