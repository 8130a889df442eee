import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { id, type BytesLike, type ContractTransactionReceipt } from "ethers";
import {
  LearnToken__factory,
  RunTimelock__factory,
  type RunGovernor,
} from "../../../types/ethers-contracts/index.js";
import { ProposalState, VoteType } from "./contractEnums.js";

export { ProposalState, VoteType } from "./contractEnums.js";

export interface PassedProposal {
  proposalId: bigint;
  descriptionHash: string;
  /** receipt of the `execute` transaction (look for the target's events here) */
  executeReceipt: ContractTransactionReceipt;
}

function providerOf(governor: RunGovernor): HardhatEthersProvider {
  const provider = governor.runner?.provider;
  if (provider === null || provider === undefined || !("send" in provider)) {
    throw new Error(
      "passProposal: the governor has no Hardhat provider; connect it to a signer from " +
        "`(await network.create()).ethers` (e.g. core.governor from deployCore)",
    );
  }
  return provider as HardhatEthersProvider;
}

/**
 * Takes a proposal through its whole life on a local chain: propose (as the governor's
 * signer), mine past the voting delay, vote For with the chain's accounts that have votes
 * until the proposal has quorum and a majority, mine past the voting period, queue, wait the
 * timelock delay and execute. Throws, naming the state, if any step leaves the proposal
 * somewhere else than expected (e.g. the proposer is under the threshold, or the delegated
 * votes cannot reach quorum).
 */
export async function passProposal(
  governor: RunGovernor,
  targets: string[],
  values: bigint[],
  calldatas: BytesLike[],
  description: string,
): Promise<PassedProposal> {
  const provider = providerOf(governor);
  const descriptionHash = id(description);
  const proposalId = await governor.hashProposal(targets, values, calldatas, descriptionHash);

  await (await governor.propose(targets, values, calldatas, description)).wait();
  const snapshot = await governor.proposalSnapshot(proposalId);
  const now = BigInt(await provider.getBlockNumber());
  if (snapshot >= now) await mine(provider, snapshot - now + 1n);
  await expectState(governor, proposalId, ProposalState.Active, "after the voting delay");

  const token = LearnToken__factory.connect(await governor.token(), provider);
  const quorum = await governor.quorum(snapshot);
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  for (const account of accounts) {
    const [against, forVotes] = await governor.proposalVotes(proposalId);
    if (forVotes >= quorum && forVotes > against) break;
    if ((await token.getPastVotes(account, snapshot)) === 0n) continue;
    if (await governor.hasVoted(proposalId, account)) continue;
    const voter = await provider.getSigner(account);
    await (await governor.connect(voter).castVote(proposalId, VoteType.For)).wait();
  }

  const deadline = await governor.proposalDeadline(proposalId);
  const afterVote = BigInt(await provider.getBlockNumber());
  if (deadline >= afterVote) await mine(provider, deadline - afterVote + 1n);
  await expectState(governor, proposalId, ProposalState.Succeeded, "after the voting period");

  await (await governor.queue(targets, values, calldatas, descriptionHash)).wait();
  const timelock = RunTimelock__factory.connect(await governor.timelock(), provider);
  const delay = await timelock.getMinDelay();
  await provider.send("evm_increaseTime", [`0x${(delay + 1n).toString(16)}`]);
  await mine(provider, 1n);

  const executeTx = await governor.execute(targets, values, calldatas, descriptionHash);
  const executeReceipt = await executeTx.wait();
  if (executeReceipt === null) throw new Error("passProposal: execute returned no receipt");
  await expectState(governor, proposalId, ProposalState.Executed, "after execute");
  return { proposalId, descriptionHash, executeReceipt };
}

async function mine(provider: HardhatEthersProvider, blocks: bigint): Promise<void> {
  await provider.send("hardhat_mine", [`0x${blocks.toString(16)}`]);
}

async function expectState(
  governor: RunGovernor,
  proposalId: bigint,
  expected: bigint,
  when: string,
): Promise<void> {
  const state = await governor.state(proposalId);
  if (state !== expected) {
    const name = (s: bigint): string =>
      Object.entries(ProposalState).find(([, v]) => v === s)?.[0] ?? `state ${s}`;
    throw new Error(
      `passProposal: proposal ${proposalId} is ${name(state)} ${when}, expected ${name(expected)}; ` +
        "check that the proposer meets the threshold and that the delegated holders reach quorum",
    );
  }
}
