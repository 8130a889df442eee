import { fileURLToPath } from "node:url";
import type { NetworkConnection } from "hardhat/types/network";
import { DeploymentError } from "../chain/deployment.js";
import { buildContracts } from "./build-contracts.js";

/** The project's Hardhat config, so deploying works from any working directory. */
export const HARDHAT_CONFIG_PATH = fileURLToPath(new URL("../../../hardhat.config.ts", import.meta.url));

/**
 * Opens a Hardhat network connection to one of hardhat.config.ts's networks (localhost, anvil,
 * sepolia, baseSepolia), building the contracts first. Hardhat is loaded lazily, so code that
 * only reads the chain never pays for it.
 *
 * @example
 * const connection = await connectHardhat("anvil", "http://127.0.0.1:8545");
 * try {
 *   await deploySystem({ connection, networkName: "localhost" });
 * } finally {
 *   await connection.close();
 * }
 */
export async function connectHardhat(networkName: string, rpcUrl?: string): Promise<NetworkConnection> {
  // Hardhat finds its config from the working directory unless told; point it at this project's.
  process.env.HARDHAT_CONFIG ??= HARDHAT_CONFIG_PATH;
  const hre = (await import("hardhat")).default;
  await buildContracts(hre);
  const known = Object.keys(hre.config.networks);
  if (!known.includes(networkName)) {
    throw new DeploymentError(`Hardhat has no network "${networkName}"`, {
      code: "DEPLOY_UNKNOWN_NETWORK",
      fix: `use one of ${known.join(", ")}, or add it to hardhat.config.ts`,
    });
  }
  try {
    return await hre.network.create({
      network: networkName,
      ...(rpcUrl !== undefined ? { override: { url: rpcUrl } } : {}),
    });
  } catch (err) {
    throw explainHardhatError(err, networkName);
  }
}

/** Turns Hardhat's "missing configuration variable" into the command that sets it; other errors pass through. */
export function explainHardhatError(err: unknown, networkName: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const variable = /Configuration Variable "([A-Z0-9_]+)"/i.exec(message)?.[1];
  if (variable !== undefined) {
    return new DeploymentError(
      `deploying to ${networkName} needs the Hardhat configuration variable ${variable}, which is not set`,
      {
        code: "DEPLOY_CONFIG_VARIABLE_MISSING",
        fix: `store it encrypted with \`npx hardhat keystore set ${variable}\` (or export ${variable} in the environment), then deploy again`,
        cause: err,
      },
    );
  }
  return err;
}
