import { join } from "node:path";
import type { Command } from "commander";
import { deployNetwork } from "../../deploy/deploy-network.js";
import { readIgnitionParameters } from "../../deploy/ignition-parameters.js";
import { deploymentsDir, emit, type CliIo } from "../context.js";
import { withProgress } from "../progress.js";

/**
 * `protolearn deploy --network <name>`: flags → `deployNetwork` (deploy/deploy-network.ts: the
 * whole system through the Ignition module) → deployments/<network>.json. Networks are
 * Hardhat's (hardhat.config.ts): localhost, anvil, sepolia, baseSepolia; live networks take
 * their RPC URL and deployer key from Hardhat configuration variables.
 */

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
          step: (label, work) => withProgress(io.progress, label, work),
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
