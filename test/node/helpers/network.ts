import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { createTestClient, http, parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { approve, stake as stakeLearn, transfer } from "../../../node/src/chain/actions/index.js";
import { connectSigner, type SignerContext } from "../../../node/src/chain/client.js";
import { loadDeployment, type Deployment } from "../../../node/src/chain/deployment.js";
import { deploySystem } from "../../../node/src/deploy/deploy-system.js";
import { devKey } from "../../../node/src/devnet/dev-keys.js";
import { startAnvil, type LocalChain } from "../../../node/src/devnet/local-chain.js";
import { DEFAULT_RUN_PARAMS } from "../../../ignition/modules/defaults.js";

/** The public dev keys of anvil and hardhat node (funded with ETH on local chains only). */
export const DEV_KEYS: Hex[] = Array.from({ length: 8 }, (_, i) => devKey(i));

export interface TestNetwork {
  chain: LocalChain;
  deployment: Deployment;
  accounts: PrivateKeyAccount[];
  signer(i: number): Promise<SignerContext>;
  /** Moves chain time forward and mines a block. */
  advance(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

/** Short, test-sized run: tiny H, long phases (the test moves time, not the clock). */
export const TEST_RUN_PARAMS = {
  ...DEFAULT_RUN_PARAMS,
  innerSteps: 6,
  batchSize: 32,
  densityPpm: 20_000,
  commitDuration: 3600,
  revealDuration: 3600,
  scoreDuration: 3600,
  voteRevealDuration: 3600,
  minUpdates: 1,
  checkpointEvery: 1,
};

/** anvil + the deployed system + `fund` accounts holding `stake` LEARN bonded each. */
export async function startTestNetwork(options: {
  port: number;
  fund: number;
  stake?: bigint;
  runParams?: Record<string, unknown>;
}): Promise<TestNetwork> {
  const chain = await startAnvil({ port: options.port });
  const outDir = await mkdtemp(join(tmpdir(), "protolearn-net-"));
  const connection = await network.create({ network: "anvil", override: { url: chain.rpcUrl } });
  try {
    await deploySystem({ connection, networkName: "anvil", outDir, parameters: { runParams: options.runParams ?? TEST_RUN_PARAMS } });
  } finally {
    await connection.close();
  }
  const deployment = await loadDeployment("anvil", outDir);
  const accounts = DEV_KEYS.map((k) => privateKeyToAccount(k));
  const signer = (i: number) =>
    connectSigner({ rpcUrl: chain.rpcUrl, deployment, runId: 1, account: accounts[i] as PrivateKeyAccount });
  const deployer = await signer(0);
  const stake = options.stake ?? parseEther("2000");
  for (let i = 1; i <= options.fund; i++) {
    const account = accounts[i] as PrivateKeyAccount;
    await transfer(deployer, { to: account.address, amount: stake, label: `fund ${account.address}` });
    const me = await signer(i);
    await approve(me, { spender: deployment.contracts.StakeManager, amount: stake, label: "approve" });
    await stakeLearn(me, { amount: stake, label: "stake" });
  }
  const testClient = createTestClient({ mode: "anvil", transport: http(chain.rpcUrl) });
  return {
    chain,
    deployment,
    accounts,
    signer,
    advance: async (seconds: number) => {
      await testClient.increaseTime({ seconds });
      await testClient.mine({ blocks: 1 });
    },
    stop: () => chain.stop(),
  };
}

export type { Address };
