import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { NetworkConnection } from "hardhat/types/network";
import type { DeploymentRecord, IgnitionParameters } from "../../../../scripts/deploy.js";
import { buildContracts } from "../../deploy/build-contracts.js";
import { ProtolearnError } from "../../errors.js";
import { deploymentsDir, emit, type CliIo } from "../context.js";
import { withProgress } from "../progress.js";

/**
 * `protolearn deploy --network <name>`: the whole system through the Ignition module
 * (scripts/deploy.ts `deploySystem`), written to deployments/<network>.json. Networks are
 * Hardhat's (hardhat.config.ts): localhost, anvil, sepolia, baseSepolia; live networks take
 * their RPC URL and deployer key from Hardhat configuration variables.
 */

/** The project's Hardhat config, so deploy works from any working directory. */
export const HARDHAT_CONFIG_PATH = fileURLToPath(
  new URL("../../../../hardhat.config.ts", import.meta.url),
);

/** Opens a Hardhat network connection (loads Hardhat lazily: read commands never pay for it). */
export async function connectHardhat(
  networkName: string,
  rpcUrl?: string,
): Promise<NetworkConnection> {
  // Hardhat finds its config from the working directory unless told; point it at this project's.
  process.env.HARDHAT_CONFIG ??= HARDHAT_CONFIG_PATH;
  const hre = (await import("hardhat")).default;
  await buildContracts(hre);
  const known = Object.keys(hre.config.networks);
  if (!known.includes(networkName)) {
    throw new ProtolearnError(`Hardhat has no network "${networkName}"`, {
      code: "CLI_UNKNOWN_NETWORK",
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

/** Turns a missing configuration variable into the command that sets it. */
function explainHardhatError(err: unknown, networkName: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const variable = /Configuration Variable "([A-Z0-9_]+)"/i.exec(message)?.[1];
  if (variable !== undefined) {
    return new ProtolearnError(
      `deploying to ${networkName} needs the Hardhat configuration variable ${variable}, which is not set`,
      {
        code: "CLI_CONFIG_VARIABLE_MISSING",
        fix: `store it encrypted with \`npx hardhat keystore set ${variable}\` (or export ${variable} in the environment), then deploy again`,
        cause: err,
      },
    );
  }
  return err;
}

/** Ignition writes bigints as "123n" strings in parameter files; turn those back into bigints. */
function reviveBigints(value: unknown): unknown {
  if (typeof value === "string" && /^\d+n$/.test(value)) return BigInt(value.slice(0, -1));
  if (Array.isArray(value)) return value.map(reviveBigints);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveBigints(v)]));
  }
  return value;
}

/**
 * Reads an Ignition parameters file: either `{ "Protolearn": { … } }` (Ignition's own format)
 * or the module's parameters directly. Bigints as "123n".
 */
export async function readIgnitionParameters(path: string): Promise<IgnitionParameters> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new ProtolearnError(
      `cannot read the parameters file ${path} (${(err as Error).message.split("\n")[0]})`,
      {
        code: "CLI_BAD_PARAMETERS",
        fix: 'give a JSON file such as { "Protolearn": { "timelockDelay": "600n" } }',
      },
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ProtolearnError(`the parameters file ${path} is not a JSON object`, {
      code: "CLI_BAD_PARAMETERS",
      fix: 'give a JSON file such as { "Protolearn": { "timelockDelay": "600n" } }',
    });
  }
  const inner = (json as Record<string, unknown>).Protolearn;
  const params = typeof inner === "object" && inner !== null ? inner : json;
  return reviveBigints(params) as IgnitionParameters;
}

/** Deploys the system to `networkName` and writes `<outDir>/<recordName>.json`. */
export async function deployNetwork(options: {
  networkName: string;
  recordName?: string;
  rpcUrl?: string;
  parameters?: IgnitionParameters;
  outDir: string;
  progress?: boolean;
}): Promise<DeploymentRecord> {
  const connection = await connectHardhat(options.networkName, options.rpcUrl);
  try {
    const { deploySystem } = await import("../../../../scripts/deploy.js");
    return await withProgress(
      options.progress ?? false,
      `deploying protolearn to ${options.networkName}`,
      () =>
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

export function registerDeploy(program: Command, io: CliIo): void {
  program
    .command("deploy")
    .description(
      "deploy LearnToken, StakeManager, RunGovernor + timelock, the run factory and run #1 (Hardhat Ignition)",
    )
    .requiredOption(
      "--network <name>",
      "Hardhat network: localhost | anvil | sepolia | baseSepolia",
    )
    .option(
      "--parameters <file>",
      "Ignition parameters (JSON), e.g. a shorter timelockDelay or other runParams",
    )
    .option("--rpc-url <url>", "override the network's RPC URL")
    .option(
      "--deployments <dir>",
      "where deployments/<network>.json is written (default ./deployments)",
    )
    .option("--json", "print the deployment record as one JSON object", false)
    .addHelpText(
      "after",
      [
        "",
        "Live networks read their RPC URL and deployer key from Hardhat configuration variables:",
        "  sepolia:      SEPOLIA_RPC_URL, SEPOLIA_PRIVATE_KEY",
        "  baseSepolia:  BASE_SEPOLIA_RPC_URL, BASE_SEPOLIA_PRIVATE_KEY",
        "Set them with `npx hardhat keystore set <NAME>` (encrypted) or as environment variables.",
        "",
        "Examples:",
        "  $ protolearn deploy --network localhost",
        "  $ protolearn deploy --network sepolia --parameters ignition/parameters/sepolia.json",
      ].join("\n"),
    )
    .action(
      async (flags: {
        network: string;
        parameters?: string;
        rpcUrl?: string;
        deployments?: string;
        json: boolean;
      }) => {
        const parameters =
          flags.parameters === undefined
            ? undefined
            : await readIgnitionParameters(flags.parameters);
        const outDir = deploymentsDir(flags, io);
        const record = await deployNetwork({
          networkName: flags.network,
          outDir,
          progress: io.progress,
          ...(flags.rpcUrl !== undefined ? { rpcUrl: flags.rpcUrl } : {}),
          ...(parameters !== undefined ? { parameters } : {}),
        });
        emit(io, flags.json, record, () =>
          [
            `deployed to ${record.network} (chain ${record.chainId}) from block ${record.deploymentBlock}`,
            ...Object.entries(record.contracts).map(
              ([name, address]) => `  ${name.padEnd(26)} ${address}`,
            ),
            ...record.runs.map((r) => `  run ${String(r.runId).padEnd(22)} ${r.address}`),
            `record: ${join(outDir, `${record.network}.json`)}`,
          ].join("\n"),
        );
      },
    );
}
