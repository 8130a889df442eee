import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import type {
  LearnToken,
  RunGovernor,
  RunTimelock,
  StakeManager,
} from "../../../types/ethers-contracts/index.js";

/** 1 token in base units (18 decimals). */
export const ONE = 10n ** 18n;

/** What `deployCore` deploys with unless told otherwise. */
export const DEFAULT_CORE_OPTIONS = {
  /** hard cap of LearnToken: 1 billion tokens */
  cap: 1_000_000_000n * ONE,
  /** how many of the chain's signers (from index 0) receive tokens and self-delegate */
  holders: 10,
  /** tokens minted to each holder */
  perHolder: 1_000_000n * ONE,
  /** StakeManager unbonding period, seconds */
  unbondingPeriod: 7n * 24n * 3600n,
  /** StakeManager appeal window, seconds */
  appealWindow: 3n * 24n * 3600n,
  /** treasury of resolved slashes: "timelock" (default), "burn" (address(0)) or an address */
  treasury: "timelock" as "timelock" | "burn" | string,
  /** RunTimelock minimum delay, seconds */
  timelockDelay: 2n * 24n * 3600n,
  /** RunGovernor voting delay, blocks */
  votingDelay: 1n,
  /** RunGovernor voting period, blocks */
  votingPeriod: 50n,
  /** RunGovernor proposal threshold, votes (base units) */
  proposalThreshold: 1_000n * ONE,
  /** RunGovernor quorum, percent of the past total supply */
  quorumPercent: 4n,
};

export type CoreOptions = typeof DEFAULT_CORE_OPTIONS;

/** The deployed core: token, governance and staking, with the timelock as admin of all of it. */
export interface Core {
  connection: Pick<NetworkConnection, "ethers" | "networkHelpers">;
  options: CoreOptions;
  /** signer 0: deployed everything and renounced every role it had; it alone may still name
   *  the StakeManager's run factory, once (`setRunFactory`) */
  deployer: HardhatEthersSigner;
  /** the signers that hold `perHolder` tokens each and delegated to themselves (deployer included) */
  holders: HardhatEthersSigner[];
  /** the remaining signers: no tokens, no roles (use them as "runs", registrars, outsiders) */
  others: HardhatEthersSigner[];
  token: LearnToken;
  timelock: RunTimelock;
  governor: RunGovernor;
  stakeManager: StakeManager;
  /** the treasury address the StakeManager was deployed with (ZeroAddress = burn) */
  treasury: string;
}

/**
 * Deploys LearnToken, RunTimelock, RunGovernor and StakeManager the way production does:
 * the deployer mints the initial allocation, hands DEFAULT_ADMIN_ROLE (and MINTER_ADMIN_ROLE)
 * of the token, the timelock's admin role and the StakeManager's admin role to the timelock,
 * and renounces its own roles. The governor is the timelock's only proposer and canceller;
 * anyone may execute. Holders self-delegate, so their votes count from the next block.
 *
 * Wrap it in `networkHelpers.loadFixture` to deploy once per file and revert between tests:
 * @example
 * const connection = await network.create();
 * const fixture = () => deployCore(connection);
 * const core = await connection.networkHelpers.loadFixture(fixture);
 */
export async function deployCore(
  connection: Pick<NetworkConnection, "ethers" | "networkHelpers">,
  overrides: Partial<CoreOptions> = {},
): Promise<Core> {
  const options: CoreOptions = { ...DEFAULT_CORE_OPTIONS, ...overrides };
  const { ethers } = connection;
  const signers = await ethers.getSigners();
  if (options.holders < 1 || options.holders > signers.length) {
    throw new Error(
      `deployCore: holders=${options.holders} but the network has ${signers.length} signers; ` +
        `pass a holders count between 1 and ${signers.length}`,
    );
  }
  const deployer = signers[0]!;
  const holders = signers.slice(0, options.holders);
  const others = signers.slice(options.holders);

  const timelock = await ethers.deployContract("RunTimelock", [
    options.timelockDelay,
    [],
    [ethers.ZeroAddress],
    deployer.address,
  ]);
  const timelockAddress = await timelock.getAddress();

  const token = await ethers.deployContract("LearnToken", [
    "Protolearn",
    "LEARN",
    options.cap,
    deployer.address,
  ]);
  const minterRole = await token.MINTER_ROLE();
  const minterAdminRole = await token.MINTER_ADMIN_ROLE();
  const adminRole = await token.DEFAULT_ADMIN_ROLE();
  await (await token.grantRole(minterRole, deployer.address)).wait();
  for (const holder of holders) {
    await (await token.mint(holder.address, options.perHolder)).wait();
    await (await token.connect(holder).delegate(holder.address)).wait();
  }
  await (await token.grantRole(adminRole, timelockAddress)).wait();
  await (await token.grantRole(minterAdminRole, timelockAddress)).wait();
  await (await token.renounceRole(minterRole, deployer.address)).wait();
  await (await token.renounceRole(minterAdminRole, deployer.address)).wait();
  await (await token.renounceRole(adminRole, deployer.address)).wait();

  const treasury =
    options.treasury === "timelock"
      ? timelockAddress
      : options.treasury === "burn"
        ? ethers.ZeroAddress
        : options.treasury;
  const stakeManager = await ethers.deployContract("StakeManager", [
    await token.getAddress(),
    timelockAddress,
    options.unbondingPeriod,
    options.appealWindow,
    treasury,
  ]);

  const governor = await ethers.deployContract("RunGovernor", [
    await token.getAddress(),
    await stakeManager.getAddress(),
    timelockAddress,
    options.votingDelay,
    options.votingPeriod,
    options.proposalThreshold,
    options.quorumPercent,
  ]);
  const governorAddress = await governor.getAddress();
  await (await timelock.grantRole(await timelock.PROPOSER_ROLE(), governorAddress)).wait();
  await (await timelock.grantRole(await timelock.CANCELLER_ROLE(), governorAddress)).wait();
  await (await timelock.renounceRole(await timelock.DEFAULT_ADMIN_ROLE(), deployer.address)).wait();


  return {
    connection,
    options,
    deployer,
    holders,
    others,
    token,
    timelock,
    governor,
    stakeManager,
    treasury,
  };
}

/**
 * A signer that sends transactions as the timelock (impersonated, funded with 10 ETH). A setup
 * shortcut for tests whose subject is not governance itself (e.g. granting MINTER_ADMIN_ROLE
 * to a factory); tests of governance go through `passProposal`.
 */
export async function timelockSigner(core: Core): Promise<HardhatEthersSigner> {
  const address = await core.timelock.getAddress();
  await core.connection.networkHelpers.impersonateAccount(address);
  await core.connection.networkHelpers.setBalance(address, 10n * ONE);
  return core.connection.ethers.getSigner(address);
}

/**
 * Stakes `amount` for each of `accounts` (approve + stake). The accounts must hold the tokens.
 */
export async function stakeFor(
  core: Core,
  accounts: HardhatEthersSigner[],
  amount: bigint,
): Promise<void> {
  const stakeManagerAddress = await core.stakeManager.getAddress();
  for (const account of accounts) {
    await (await core.token.connect(account).approve(stakeManagerAddress, amount)).wait();
    await (await core.stakeManager.connect(account).stake(amount)).wait();
  }
}

export { passProposal, type PassedProposal } from "./passProposal.js";
