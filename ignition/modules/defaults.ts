import { id, parseEther } from "ethers";

/**
 * Default parameters of a deployment and of a new run. Every value is overridable through
 * Ignition parameters (`--parameters`), and every run parameter later through governance
 * (`setParams`). docs/contracts.md and docs/run-contract.md give each one's bound.
 */
export const DEFAULT_SYSTEM_PARAMS = {
  tokenCap: parseEther("1000000000"), // 1e9 LEARN hard cap
  genesisSupply: parseEther("10000000"), // deployer: operators' stake and votes on a devnet
  treasurySupply: parseEther("10000000"), // timelock treasury
  // Governance timing and threshold: the devnet's here; deploySystem picks per network (governanceFor).
  timelockDelay: 3600n, // 1 h between a passed proposal and its execution
  votingDelay: 1n, // blocks
  votingPeriod: 50n, // blocks
  proposalThreshold: 0n,
  quorumPercent: 4n, // % of the total supply at the proposal snapshot (GovernorVotesQuorumFraction)
  unbondingPeriod: 7n * 24n * 3600n, // 7 days
  appealWindow: 3n * 24n * 3600n, // 3 days
};

/**
 * Run #1: MNIST MLP. Inner AdamW lr 2e-3, batch 64; H = 100; top-5 % 2-bit updates with error
 * feedback; outer step lr 1.5 without momentum. Measured by `npm run bench:comm` (8 nodes):
 * 6,244× fewer bytes than DDP at equal accuracy (docs/simulation.md).
 */
export const DEFAULT_RUN_PARAMS = {
  modelId: id("mnist-mlp-v1"),
  innerSteps: 100, // H: DDP bytes grow with H, ours do not (docs/simulation.md)
  batchSize: 64,
  innerLrPpm: 2000, // AdamW lr 2e-3
  outerLrPpm: 1_500_000, // outer lr 1.5 with no momentum: measured better than DiLoCo's 0.7 / 0.9 here
  outerMomentumPpm: 0, // error feedback already acts like momentum; 0.9 made held-out loss climb
  densityPpm: 50_000, // top-5 %
  quantBits: 2,
  aggregation: 0, // trimmed mean
  trimPpm: 100_000, // 10 % trimmed each side
  clipMultiplePpm: 2_000_000, // clip to 2 × median norm
  checkpointEvery: 5,
  commitDuration: 600,
  revealDuration: 300,
  scoreDuration: 600, // vote commits
  voteRevealDuration: 300,
  maxNodesPerRound: 128, // hard cap on commits per round (the lottery gives about trainerSeats)
  trainerSeats: 64, // N: expected trainer seats per round (stake-weighted lottery)
  committeeSize: 16, // C: validator seats per round (stake-weighted, with replacement)
  scorersPerUpdate: 3, // k: committee seats that score each update (a validator scores ~n·k/C)
  minUpdates: 2,
  acceptScorePpm: 2, // 1 ppm = valid but unhelpful (not accepted, not slashed); 0 = harmful (slashed)
  minTrainerStake: parseEther("100"),
  minValidatorStake: parseEther("1000"),
  invalidSlashBps: 1000, // 10 %
  noRevealSlashBps: 100, // 1 %
  validatorSlashBps: 500, // 5 %
  validatorShareBps: 2000, // 20 % of the emission to validators in consensus
  emissionPerRound: parseEther("100"),
};

/**
 * A language-model run: byte-transformer-v1 (875,520 parameters) on the State of the Union bytes,
 * with the LM defaults of `npm run sim` (LM_SIM_DEFAULTS, node/src/round/sim/sim-config.ts,
 * chosen from the sweep in docs/simulation.md): H = 16 AdamW steps of 2 windows (256 bytes) at
 * lr 3e-3, top-0.7 % 2-bit updates, outer lr 1.5. Everything else as run #1's defaults.
 * `npm start -- --model byte-transformer-v1` creates run #1 with these.
 */
export const LM_RUN_PARAMS = {
  ...DEFAULT_RUN_PARAMS,
  modelId: id("byte-transformer-v1"),
  innerSteps: 16,
  batchSize: 2, // windows of 129 bytes
  innerLrPpm: 3000, // AdamW lr 3e-3
  densityPpm: 7_000, // top-0.7 %
};

/** Governance timing and the proposal threshold: the values that differ between networks. */
export interface GovernanceParameters {
  /** Seconds between a passed proposal and its execution (the timelock's minimum delay). */
  timelockDelay: bigint;
  /** Blocks between a proposal and the start of its vote (the voting-power snapshot). */
  votingDelay: bigint;
  /** Blocks the vote lasts. */
  votingPeriod: bigint;
  /** Votes (wei of LEARN) an account needs to propose. */
  proposalThreshold: bigint;
}

/** Local chains (hardhat node, anvil, EDR): short, explicit values so a demo passes a vote in seconds. */
export const DEVNET_GOVERNANCE: GovernanceParameters = {
  timelockDelay: 3600n,
  votingDelay: 1n,
  votingPeriod: 50n,
  proposalThreshold: 0n,
};

/** Networks that run on a developer's machine; every other network gets the public values. */
export const LOCAL_NETWORKS: readonly string[] = ["localhost", "anvil", "hardhat", "hardhatMainnet", "default"];

/** Seconds per block of the public networks hardhat.config.ts names; unknown networks count as 12 s (L1). */
export const BLOCK_SECONDS: Readonly<Record<string, bigint>> = { sepolia: 12n, baseSepolia: 2n };

const DAY = 24n * 3600n;

/**
 * Public networks: a proposer needs 100,000 LEARN of votes (0.5 % of the genesis supply, so a
 * throwaway account cannot spam proposals); token holders get a day to see a proposal before
 * the snapshot, three days to vote, and two days of timelock to react before it executes. The
 * appeal window (7 days) outlasts all three together (6 days), so a slash appeal proposed on the
 * day of the slash can still be executed inside the window (docs/design-changes.md says why
 * this, not "a timelock longer than the appeal window").
 */
export function publicGovernance(blockSeconds: bigint): GovernanceParameters & { appealWindow: bigint } {
  return {
    timelockDelay: 2n * DAY,
    votingDelay: DAY / blockSeconds,
    votingPeriod: (3n * DAY) / blockSeconds,
    proposalThreshold: parseEther("100000"),
    appealWindow: 7n * DAY,
  };
}

/** The governance parameters a deployment to `networkName` gets unless its parameters say otherwise. */
export function governanceFor(networkName: string): GovernanceParameters & { appealWindow?: bigint } {
  if (LOCAL_NETWORKS.includes(networkName)) return DEVNET_GOVERNANCE;
  return publicGovernance(BLOCK_SECONDS[networkName] ?? 12n);
}
