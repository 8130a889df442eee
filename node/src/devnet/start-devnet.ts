import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isAddressEqual, parseUnits, type Address } from "viem";
import * as actions from "../chain/actions/index.js";
import { connectSigner, type SignerContext } from "../chain/client.js";
import { loadDeployment, type Deployment } from "../chain/deployment.js";
import { formatLearn } from "../chain/learn-amount.js";
import { configSchema } from "../config/config.js";
import { deployNetwork } from "../deploy/deploy-network.js";
import type { IgnitionParameters } from "../deploy/deploy-system.js";
import { HARDHAT_CONFIG_PATH } from "../deploy/hardhat-connection.js";
import { ProtolearnError } from "../errors.js";
import { encryptKeystore, keystoreAddress, writeKeystoreFile } from "../keystore/keystore.js";
import { plainStep, type StepRunner } from "../observe/step-runner.js";
import { devAccount, devKey } from "./dev-keys.js";
import { startAnvil, startHardhatNode, type LocalChain } from "./local-chain.js";

/**
 * A local chain with the system deployed and N funded, self-delegated node accounts, each with
 * an encrypted keystore and a config file: everything `protolearn node start` needs. Used by
 * `protolearn devnet`, `npm start` and the tests.
 */

/** Used when PROTOLEARN_PASSWORD is unset. The keys are public anyway; this only protects nothing. */
export const DEFAULT_DEVNET_PASSWORD = "protolearn-devnet-only";

/**
 * scrypt cost of devnet keystores: the keys are the public dev keys, so a slow KDF would only
 * slow down every CLI call against the devnet (2^14 ≈ 20 ms instead of 2^17 ≈ 0.5 s).
 */
const DEVNET_SCRYPT_N = 1 << 14;

/** Default LEARN sent to each node account: 4 of them pass the 4 % quorum of the 20M genesis supply. */
export const DEFAULT_DEVNET_FUNDING = parseUnits("250000", 18);

/** Devnet trainers lock 3 × minTrainerStake: a 10 % slash leaves them above the minimum (not stale). */
export const DEFAULT_TRAINER_LOCK_MULTIPLE = 3;

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
  /**
   * Also stake and join run 1: a validator locks minValidatorStake, a trainer
   * `trainerLockMultiple` × minTrainerStake. @default false
   */
  join?: boolean;
  /**
   * Trainers lock this multiple of minTrainerStake (`joinStake`). Above 1, one 10 % slash
   * (InvalidUpdate) leaves the lock above the minimum, so a slashed trainer keeps drawing seats
   * (an adversary is caught round after round) instead of going stale (P5). @default 3
   */
  trainerLockMultiple?: number;
  /** Runs each labelled step (the CLI draws a spinner for it). @default plainStep */
  step?: StepRunner;
}

export interface DevnetAccount {
  /** Dev key index (1..N). */
  index: number;
  address: Address;
  role: "trainer" | "validator";
  /** Stake (wei) the role locks on join: run 1's minValidatorStake, or `trainerLockMultiple` × minTrainerStake. */
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

/** Writes node-<i>/keystore.json (replacing an earlier devnet's keystore of the same dev key only). */
async function writeDevKeystore(
  path: string,
  key: `0x${string}`,
  address: Address,
  password: string,
): Promise<void> {
  const existing = await keystoreAddress(path);
  if (existing !== undefined && !isAddressEqual(existing, address)) {
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
  // anvil funds 10 dev keys with ETH, hardhat node 20; key 0 deploys.
  const maxAccounts = options.chain === "hardhat" ? 19 : 9;
  if (!Number.isInteger(count) || count < 1 || count > maxAccounts) {
    throw new ProtolearnError(`a devnet on ${options.chain ?? "anvil"} has 1 to ${maxAccounts} node accounts, not ${count}`, {
      code: "DEVNET_BAD_ACCOUNTS",
      fix: `pass --accounts between 1 and ${maxAccounts} (the dev keys after the deployer's; hardhat node funds 19, anvil 9)`,
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
  const step = options.step ?? plainStep;

  const chain = await step(
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
      step,
      ...(options.parameters !== undefined ? { parameters: options.parameters } : {}),
    });
    const deployment = await loadDeployment(networkName, recordsDir);
    const connect = (index: number): Promise<SignerContext> =>
      connectSigner({
        rpcUrl: chain.rpcUrl,
        deployment,
        runId: 1,
        account: devAccount(index),
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
    const multiple = options.trainerLockMultiple ?? DEFAULT_TRAINER_LOCK_MULTIPLE;
    if (!Number.isInteger(multiple) || multiple < 1) {
      throw new ProtolearnError(`trainerLockMultiple ${multiple} is not a whole number of minimum locks`, {
        code: "DEVNET_BAD_LOCK",
        fix: "pass a whole number ≥ 1 (1 locks exactly minTrainerStake)",
      });
    }
    const joinStakeOf = (role: "trainer" | "validator"): bigint =>
      role === "validator" ? params.minValidatorStake : BigInt(multiple) * params.minTrainerStake;
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

      await step(`funding node-${index}`, async () => {
        await actions.transfer(deployer, { to: address, amount: funding, label: `fund node-${index}` });
        await actions.delegate(node, { label: `node-${index} delegates to itself` });
        if (options.join === true) {
          const stake = joinStakeOf(role); // what join locks
          await actions.approve(node, {
            spender: deployer.contracts.stakeManager.address,
            amount: stake,
            label: `node-${index} approves`,
          });
          await actions.stake(node, { amount: stake, label: `node-${index} stakes` });
          await actions.join(node, { role, amount: stake, label: `node-${index} joins` });
        }
      });
      accounts.push({
        index,
        address,
        role,
        joinStake: joinStakeOf(role),
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
