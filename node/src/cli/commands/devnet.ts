import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { formatUnits, parseUnits, toHex, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import * as actions from "../../chain/actions/index.js";
import { connectSigner, type SignerContext } from "../../chain/client.js";
import { loadDeployment, type Deployment } from "../../chain/deployment.js";
import { configSchema } from "../../config/config.js";
import { startAnvil, startHardhatNode, type LocalChain } from "../../devnet/local-chain.js";
import { ProtolearnError } from "../../errors.js";
import { encryptKeystore, writeKeystoreFile } from "../../keystore/keystore.js";
import type { IgnitionParameters } from "../../../../scripts/deploy.js";
import { deploymentsDir, emit, formatLearn, keystoreAddress, type CliIo } from "../context.js";
import { withProgress } from "../progress.js";
import { deployNetwork, HARDHAT_CONFIG_PATH, readIgnitionParameters } from "./deploy.js";

/**
 * `protolearn devnet`: a local chain with the system deployed and N funded, self-delegated
 * node accounts, each with an encrypted keystore and a config file — everything `protolearn
 * node start` needs. `startDevnet` is the same as a function (used by `npm start` and tests).
 */

/** The public Hardhat/anvil development mnemonic: key #0 deploys, keys 1..N are the nodes. Never use on a real network. */
export const DEVNET_MNEMONIC = "test test test test test test test test test test test junk";

/** Used when PROTOLEARN_PASSWORD is unset. The keys are public anyway; this only protects nothing. */
export const DEFAULT_DEVNET_PASSWORD = "protolearn-devnet-only";

/**
 * scrypt cost of devnet keystores: the keys are the public dev keys, so a slow KDF would only
 * slow down every CLI call against the devnet (2^14 ≈ 20 ms instead of 2^17 ≈ 0.5 s).
 */
const DEVNET_SCRYPT_N = 1 << 14;

/** Default LEARN sent to each node account: 4 of them pass the 4 % quorum of the 20M genesis supply. */
export const DEFAULT_DEVNET_FUNDING = parseUnits("250000", 18);

export interface DevnetOptions {
  /** @default 8545 */
  port?: number;
  /** @default "anvil" */
  chain?: "anvil" | "hardhat";
  /** Node accounts (dev keys 1..N). @default 6 */
  accounts?: number;
  /** How many of them are validators (the first ones); the rest are trainers. @default 2 (1 when accounts < 4) */
  validators?: number;
  /** Folder for node-<i>/ (keystore.json, config.json, data/). @default ".protolearn/devnet" */
  outDir?: string;
  /** Name of the deployment record (deployments/<network>.json). @default "localhost" */
  network?: string;
  /** Folder of deployment records. @default "deployments" */
  deploymentsDir?: string;
  /** Keystore password. @default PROTOLEARN_PASSWORD, else DEFAULT_DEVNET_PASSWORD */
  password?: string;
  /** Ignition parameters (e.g. a short timelockDelay, runParams with short phases). */
  parameters?: IgnitionParameters;
  /** LEARN (wei) sent to each account. @default DEFAULT_DEVNET_FUNDING */
  funding?: bigint;
  /** Also stake each role's minimum and join run 1. @default false */
  join?: boolean;
  /** Draw spinners on stderr. @default false */
  progress?: boolean;
}

export interface DevnetAccount {
  /** Dev key index (1..N). */
  index: number;
  address: Address;
  role: "trainer" | "validator";
  /** Stake (wei) the role locks on join: run 1's minTrainerStake or minValidatorStake. */
  joinStake: bigint;
  keystorePath: string;
  configPath: string;
  dataDir: string;
}

export interface Devnet {
  chain: LocalChain;
  deployment: Deployment;
  deploymentPath: string;
  deployer: Address;
  accounts: DevnetAccount[];
  password: string;
  /** Whether `password` is DEFAULT_DEVNET_PASSWORD (the CLI then prints it, labelled devnet-only). */
  passwordIsDefault: boolean;
  /** Stops the chain. */
  stop(): Promise<void>;
}

export function devKey(index: number): `0x${string}` {
  const key = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (key === null) throw new Error(`cannot derive dev key ${index}`);
  return toHex(key);
}

/** Writes node-<i>/keystore.json (replacing an earlier devnet's keystore of the same dev key only). */
async function writeDevKeystore(
  path: string,
  key: `0x${string}`,
  address: Address,
  password: string,
): Promise<void> {
  const existing = await keystoreAddress(path);
  if (existing !== undefined && existing !== address) {
    throw new ProtolearnError(
      `${path} holds the keystore of ${existing}, not of devnet account ${address}`,
      {
        code: "DEVNET_KEYSTORE_CONFLICT",
        fix: "pass another --out folder; a devnet never overwrites a key that is not a public dev key",
      },
    );
  }
  if (existing !== undefined) await rm(path);
  await writeKeystoreFile(path, await encryptKeystore(key, password, { scryptN: DEVNET_SCRYPT_N }));
}

/** Starts a local chain, deploys, and prepares N node accounts. Stops the chain again if a step fails. */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const count = options.accounts ?? 6;
  if (!Number.isInteger(count) || count < 1 || count > 9) {
    throw new ProtolearnError(`a devnet has 1 to 9 node accounts, not ${count}`, {
      code: "DEVNET_BAD_ACCOUNTS",
      fix: "pass --accounts between 1 and 9 (the dev keys after the deployer's)",
    });
  }
  const validators = options.validators ?? (count >= 4 ? 2 : 1);
  if (!Number.isInteger(validators) || validators < 0 || validators > count) {
    throw new ProtolearnError(`${validators} validators do not fit in ${count} accounts`, {
      code: "DEVNET_BAD_VALIDATORS",
      fix: `pass --validators between 0 and ${count}`,
    });
  }
  const port = options.port ?? 8545;
  const networkName = options.network ?? "localhost";
  const outDir = resolve(options.outDir ?? ".protolearn/devnet");
  const recordsDir = resolve(options.deploymentsDir ?? "deployments");
  const passwordIsDefault = options.password === undefined;
  const password = options.password ?? DEFAULT_DEVNET_PASSWORD;
  const funding = options.funding ?? DEFAULT_DEVNET_FUNDING;
  const progress = options.progress ?? false;

  const chain = await withProgress(
    progress,
    `starting ${options.chain ?? "anvil"} on port ${port}`,
    () =>
      options.chain === "hardhat"
        ? startHardhatNode({ port, cwd: dirname(HARDHAT_CONFIG_PATH) })
        : startAnvil({ port }),
  );
  try {
    await deployNetwork({
      networkName: "localhost",
      recordName: networkName,
      rpcUrl: chain.rpcUrl,
      outDir: recordsDir,
      progress,
      ...(options.parameters !== undefined ? { parameters: options.parameters } : {}),
    });
    const deployment = await loadDeployment(networkName, recordsDir);
    const connect = (index: number): Promise<SignerContext> =>
      connectSigner({
        rpcUrl: chain.rpcUrl,
        deployment,
        runId: 1,
        account: mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: index }),
      });
    const deployer = await connect(0);
    const deployerBalance = await deployer.contracts.token.read.balanceOf([
      deployer.account.address,
    ]);
    if (deployerBalance < funding * BigInt(count)) {
      throw new ProtolearnError(
        `the deployer holds ${formatLearn(deployerBalance)}, not enough to send ${formatLearn(funding)} to each of ${count} accounts`,
        {
          code: "DEVNET_FUNDING",
          fix: "fund fewer accounts or lower --fund",
        },
      );
    }
    const params = await deployer.contracts.run.read.params();
    const accounts: DevnetAccount[] = [];
    for (let index = 1; index <= count; index++) {
      const key = devKey(index);
      const node = await connect(index);
      const address = node.account.address;
      const role = index <= validators ? "validator" : "trainer";
      const home = join(outDir, `node-${index}`);
      const keystorePath = join(home, "keystore.json");
      const configPath = join(home, "config.json");
      const dataDir = join(home, "data");
      await writeDevKeystore(keystorePath, key, address, password);
      const config = configSchema.parse({
        network: networkName,
        rpcUrl: chain.rpcUrl,
        runId: 1,
        role,
        keystore: keystorePath,
        dataDir,
        metrics: { enabled: true, host: "127.0.0.1", port: 9464 + index },
      });
      await mkdir(home, { recursive: true });
      await writeFile(configPath, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });

      await withProgress(progress, `funding node-${index}`, async () => {
        await actions.transfer(deployer, { to: address, amount: funding, label: `fund node-${index}` });
        await actions.delegate(node, { label: `node-${index} delegates to itself` });
        if (options.join === true) {
          const stake = role === "validator" ? params.minValidatorStake : params.minTrainerStake; // what join locks
          await actions.approve(node, {
            spender: deployer.contracts.stakeManager.address,
            amount: stake,
            label: `node-${index} approves`,
          });
          await actions.stake(node, { amount: stake, label: `node-${index} stakes` });
          await actions.join(node, { role, label: `node-${index} joins` });
        }
      });
      accounts.push({
        index,
        address,
        role,
        joinStake: role === "validator" ? params.minValidatorStake : params.minTrainerStake,
        keystorePath,
        configPath,
        dataDir,
      });
    }
    return {
      chain,
      deployment,
      deploymentPath: join(recordsDir, `${networkName}.json`),
      deployer: deployer.account.address,
      accounts,
      password,
      passwordIsDefault,
      stop: () => chain.stop(),
    };
  } catch (err) {
    await chain.stop();
    throw err;
  }
}

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
      ].join("\n"),
    )
    .action(
      async (flags: {
        port: number;
        chain: "anvil" | "hardhat";
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
        const parameters =
          flags.parameters === undefined
            ? undefined
            : await readIgnitionParameters(flags.parameters);
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
          progress: io.progress,
          ...(flags.validators !== undefined ? { validators: flags.validators } : {}),
          ...(parameters !== undefined ? { parameters } : {}),
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
                : `  protolearn stake ${formatUnits(a.joinStake, 18)} --config ${a.configPath} && protolearn join --config ${a.configPath} && protolearn node start --config ${a.configPath}`,
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
