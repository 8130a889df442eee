import { Option, type Command } from "commander";
import { formatUnits, parseUnits } from "viem";
import { readIgnitionParameters } from "../../deploy/ignition-parameters.js";
import { modelRunParameters } from "../../devnet/model-parameters.js";
import { START_MODELS, type StartModel } from "../../devnet/start-options.js";
import { startDevnet } from "../../devnet/start-devnet.js";
import { ProtolearnError } from "../../errors.js";
import { deploymentsDir, emit, type CliIo } from "../context.js";
import { withProgress } from "../progress.js";

/**
 * `protolearn devnet`: flags → `startDevnet` (devnet/start-devnet.ts) → a summary, then it
 * keeps the chain running until Ctrl-C.
 */

function positiveInt(name: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value)) {
      throw new ProtolearnError(`--${name} ${value} is not a whole number`, {
        code: "CLI_BAD_FLAG",
        fix: `pass --${name} as a whole number`,
      });
    }
    return Number(value);
  };
}

/** `protolearn devnet`: runs in the foreground until Ctrl-C. */
export function registerDevnet(program: Command, io: CliIo): void {
  program
    .command("devnet")
    .description(
      "start a local chain, deploy, and create funded node accounts with keystores and configs (Ctrl-C stops it)",
    )
    .option("--port <port>", "JSON-RPC port", positiveInt("port"), 8545)
    .addOption(
      new Option("--chain <kind>", "local EVM").choices(["anvil", "hardhat"]).default("anvil"),
    )
    .addOption(
      new Option(
        "--model <id>",
        "the model run 1 trains, with that model's run parameters (docs/language-model.md)",
      )
        .choices([...START_MODELS])
        .default("mnist-mlp-v1"),
    )
    .option(
      "--accounts <n>",
      "node accounts to create (dev keys 1..n, at most 9)",
      positiveInt("accounts"),
      6,
    )
    .option(
      "--validators <n>",
      "how many of them are validators (default 2, or 1 with fewer than 4 accounts)",
      positiveInt("validators"),
    )
    .option("--out <dir>", "folder for node-<i>/ keystores, configs and data", ".protolearn/devnet")
    .option(
      "--network <name>",
      "name of the deployment record deployments/<name>.json",
      "localhost",
    )
    .option("--deployments <dir>", "folder of deployment records (default ./deployments)")
    .option(
      "--parameters <file>",
      "Ignition parameters (JSON), e.g. shorter phases or timelock delay",
    )
    .option("--fund <learn>", "LEARN sent to each account", "250000")
    .option("--join", "also stake each role's minimum and join run 1", false)
    .option("--json", "print what was created as one JSON object", false)
    .addHelpText(
      "after",
      [
        "",
        "Keystores are encrypted with PROTOLEARN_PASSWORD, or with a default devnet password that is printed.",
        "The keys are the public Hardhat/anvil development keys: never send real funds to them.",
        "",
        "Example:",
        "  $ protolearn devnet --accounts 4 --out /tmp/pl-devnet",
        "  $ protolearn devnet --model byte-transformer-v1 --join   # run 1 trains the byte-level language model",
      ].join("\n"),
    )
    .action(
      async (flags: {
        port: number;
        chain: "anvil" | "hardhat";
        model: StartModel;
        accounts: number;
        validators?: number;
        out: string;
        network: string;
        deployments?: string;
        parameters?: string;
        fund: string;
        join: boolean;
        json: boolean;
      }) => {
        if (!/^\d+(\.\d{1,18})?$/.test(flags.fund)) {
          throw new ProtolearnError(`--fund ${flags.fund} is not an amount of LEARN`, {
            code: "CLI_BAD_AMOUNT",
            fix: "pass --fund as a number of LEARN, e.g. 250000",
          });
        }
        const parameters = modelRunParameters(
          flags.model,
          flags.parameters === undefined ? {} : await readIgnitionParameters(flags.parameters),
        );
        const envPassword = io.env.PROTOLEARN_PASSWORD;
        const devnet = await startDevnet({
          port: flags.port,
          chain: flags.chain,
          accounts: flags.accounts,
          outDir: flags.out,
          network: flags.network,
          deploymentsDir: deploymentsDir(flags, io),
          funding: parseUnits(flags.fund, 18),
          join: flags.join,
          step: (label, work) => withProgress(io.progress, label, work),
          ...(flags.validators !== undefined ? { validators: flags.validators } : {}),
          parameters,
          ...(envPassword !== undefined && envPassword !== "" ? { password: envPassword } : {}),
        });
        const summary = {
          rpcUrl: devnet.chain.rpcUrl,
          chain: devnet.chain.kind,
          chainId: devnet.chain.chainId,
          deployment: devnet.deploymentPath,
          contracts: devnet.deployment.contracts,
          deployer: devnet.deployer,
          accounts: devnet.accounts,
          password: devnet.passwordIsDefault ? devnet.password : "(from PROTOLEARN_PASSWORD)",
        };
        emit(io, flags.json, summary, () =>
          [
            `devnet: ${devnet.chain.kind} at ${devnet.chain.rpcUrl} (chain ${devnet.chain.chainId})`,
            `deployment: ${devnet.deploymentPath} (run 1 at ${devnet.deployment.runs[0]?.address ?? "?"})`,
            `deployer (dev key #0, guardian): ${devnet.deployer}`,
            "",
            ...devnet.accounts.map(
              (a) => `node-${a.index}  ${a.role.padEnd(9)}  ${a.address}  ${a.configPath}`,
            ),
            "",
            devnet.passwordIsDefault
              ? `keystore password (DEVNET ONLY, public): ${devnet.password}   — set PROTOLEARN_PASSWORD to choose another`
              : "keystore password: the one in PROTOLEARN_PASSWORD",
            "",
            "start a node:",
            ...(flags.join
              ? []
              : [
                  `  export PROTOLEARN_PASSWORD=${devnet.passwordIsDefault ? devnet.password : "…"}`,
                ]),
            ...devnet.accounts.map((a) =>
              flags.join
                ? `  protolearn node start --config ${a.configPath}`
                : `  protolearn stake ${formatUnits(a.joinStake, 18)} --config ${a.configPath} && protolearn join --amount ${formatUnits(a.joinStake, 18)} --config ${a.configPath} && protolearn node start --config ${a.configPath}`,
            ),
            "",
            "Ctrl-C stops the chain.",
          ].join("\n"),
        );
        await new Promise<void>((resolveStop) => {
          const stop = (): void => resolveStop();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
          devnet.chain.process.once("exit", stop);
        });
        await devnet.stop();
        io.err("devnet stopped\n");
      },
    );
}
