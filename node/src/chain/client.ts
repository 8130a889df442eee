import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getContract,
  http,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import * as knownChains from "viem/chains";
import type { Logger } from "../observe/logger.js";
import { learnTokenAbi, runFactoryAbi, runGovernorAbi, runTimelockAbi, stakeManagerAbi, trainingRunAbi } from "./abis.js";
import { ChainError, errorsOf } from "./chain-error.js";
import { runAddress, type Deployment } from "./deployment.js";
import { TxSender } from "./tx-sender.js";

/**
 * Everything a command or the daemon needs to talk to one deployment: viem clients, typed
 * contract handles (ABIs generated from the artifacts), and a transaction sender for the
 * operator's account. The chain id of the RPC endpoint must equal the deployment's.
 */

/** Every custom error of every protolearn contract, to decode nested reverts. */
export const protolearnErrorsAbi = errorsOf(
  learnTokenAbi,
  stakeManagerAbi,
  trainingRunAbi,
  runFactoryAbi,
  runGovernorAbi,
  runTimelockAbi,
);

/** viem's chain definition for a chain id (block explorer links), or a bare local one. */
export function chainFor(chainId: number, rpcUrl: string): Chain {
  const known =
    chainId === 31337
      ? undefined
      : (Object.values(knownChains) as unknown[]).find(
          (c): c is Chain => typeof c === "object" && c !== null && "id" in c && (c as Chain).id === chainId,
        );
  return (
    known ??
    defineChain({
      id: chainId,
      name: chainId === 31337 ? "Local devnet" : `Chain ${chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    })
  );
}

export function protolearnContracts(client: PublicClient<Transport, Chain>, deployment: Deployment, runId: number) {
  const c = deployment.contracts;
  return {
    token: getContract({ address: c.LearnToken, abi: learnTokenAbi, client }),
    stakeManager: getContract({ address: c.StakeManager, abi: stakeManagerAbi, client }),
    governor: getContract({ address: c.RunGovernor, abi: runGovernorAbi, client }),
    timelock: getContract({ address: c.RunTimelock, abi: runTimelockAbi, client }),
    factory: getContract({ address: c.RunFactory, abi: runFactoryAbi, client }),
    run: getContract({ address: runAddress(deployment, runId), abi: trainingRunAbi, client }),
  };
}

export type ProtolearnContracts = ReturnType<typeof protolearnContracts>;

export interface ChainContext {
  chain: Chain;
  deployment: Deployment;
  runId: number;
  publicClient: PublicClient<Transport, Chain>;
  contracts: ProtolearnContracts;
}

export interface SignerContext extends ChainContext {
  account: Account;
  walletClient: WalletClient<Transport, Chain, Account>;
  sender: TxSender;
}

/** Read-only access; checks that the endpoint serves the deployment's chain. */
export async function connectChain(options: {
  rpcUrl: string;
  /**
   * How requests reach the chain, e.g. `custom(connection.provider)` for Hardhat's in-process
   * EDR chain (`rpcUrl` then only names it in messages). @default http(rpcUrl)
   */
  transport?: Transport;
  deployment: Deployment;
  runId: number;
  pollingIntervalMs?: number;
}): Promise<ChainContext> {
  const chain = chainFor(options.deployment.chainId, options.rpcUrl);
  const publicClient = createPublicClient({
    chain,
    transport: options.transport ?? http(options.rpcUrl, { retryCount: 2, timeout: 20_000 }),
    pollingInterval: options.pollingIntervalMs ?? 250,
  });
  let chainId: number;
  try {
    chainId = await publicClient.getChainId();
  } catch (err) {
    throw new ChainError(`cannot reach the chain at ${options.rpcUrl}`, {
      code: "CHAIN_UNREACHABLE",
      fix: "start the chain (e.g. `protolearn devnet`) or correct rpcUrl in the config / --rpc-url",
      cause: err,
    });
  }
  if (chainId !== options.deployment.chainId) {
    throw new ChainError(
      `the chain at ${options.rpcUrl} has id ${chainId} but the ${options.deployment.network} deployment is on chain ${options.deployment.chainId}`,
      { code: "CHAIN_MISMATCH", fix: "point --rpc-url at the network you deployed to, or pick the matching --network" },
    );
  }
  const contracts = protolearnContracts(publicClient, options.deployment, options.runId);
  return { chain, deployment: options.deployment, runId: options.runId, publicClient, contracts };
}

/** Read-write access for `account`. */
export async function connectSigner(options: {
  rpcUrl: string;
  /** @default http(rpcUrl); see connectChain */
  transport?: Transport;
  deployment: Deployment;
  runId: number;
  pollingIntervalMs?: number;
  account: Account;
  logger?: Logger;
  onGasUsed?: (label: string, gasUsed: bigint) => void;
}): Promise<SignerContext> {
  const base = await connectChain(options);
  const walletClient = createWalletClient({
    account: options.account,
    chain: base.chain,
    transport: options.transport ?? http(options.rpcUrl),
  });
  const sender = new TxSender({
    publicClient: base.publicClient,
    walletClient,
    errorAbi: protolearnErrorsAbi,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onGasUsed ? { onGasUsed: options.onGasUsed } : {}),
  });
  return { ...base, account: options.account, walletClient, sender };
}

export type { Address };
