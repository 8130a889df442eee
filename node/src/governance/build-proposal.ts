import {
  encodeAbiParameters,
  encodeFunctionData,
  formatUnits,
  hexToBigInt,
  keccak256,
  toBytes,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { learnTokenAbi, runFactoryAbi, stakeManagerAbi, trainingRunAbi } from "../chain/abis.js";
import { LEARN_DECIMALS } from "../chain/learn-amount.js";
import type { RunParamChange, RunParams } from "./run-params.js";

/**
 * Builds the (targets, values, calldatas, description) of every proposal kind the CLI offers,
 * and the proposal id the governor derives from them. Each action keeps the ABI, function and
 * arguments it was encoded from, so it can be simulated as the timelock before proposing.
 */

export const PROPOSAL_KINDS = [
  "params",
  "pause",
  "resume",
  "halt",
  "guardian",
  "reverse-slash",
  "treasury-transfer",
] as const;

export type ProposalKind = (typeof PROPOSAL_KINDS)[number];

/** One call the timelock makes when the proposal executes. */
export interface ProposalAction {
  target: Address;
  value: bigint;
  calldata: Hex;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
}

export interface ProposalDraft {
  kind: ProposalKind;
  actions: ProposalAction[];
  /** The text voters read; hashed into the proposal id. */
  description: string;
}

/** The three arrays Governor.propose/queue/execute take. */
export function proposalArrays(actions: readonly ProposalAction[]): {
  targets: Address[];
  values: bigint[];
  calldatas: Hex[];
} {
  return {
    targets: actions.map((a) => a.target),
    values: actions.map((a) => a.value),
    calldatas: actions.map((a) => a.calldata),
  };
}

/** keccak256 of the description's UTF-8 bytes, as Governor.queue/execute expect it. */
export function descriptionHash(description: string): Hex {
  return keccak256(toBytes(description));
}

/** Governor.hashProposal: uint256(keccak256(abi.encode(targets, values, calldatas, descriptionHash))). */
export function proposalId(
  arrays: { targets: readonly Address[]; values: readonly bigint[]; calldatas: readonly Hex[] },
  description: string,
): bigint {
  const encoded = encodeAbiParameters(
    [{ type: "address[]" }, { type: "uint256[]" }, { type: "bytes[]" }, { type: "bytes32" }],
    [arrays.targets, arrays.values, arrays.calldatas, descriptionHash(description)],
  );
  return hexToBigInt(keccak256(encoded));
}

function action(
  target: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
): ProposalAction {
  const calldata = encodeFunctionData({ abi, functionName, args } as Parameters<
    typeof encodeFunctionData
  >[0]);
  return { target, value: 0n, calldata, abi, functionName, args };
}

/** setParams(next) on the run; `changes` only feeds the default description. */
export function paramsProposal(options: {
  run: Address;
  runId: number;
  next: RunParams;
  changes: readonly RunParamChange[];
  description?: string;
}): ProposalDraft {
  const summary = options.changes.map((c) => `${c.name} ${c.from} -> ${c.to}`).join(", ");
  return {
    kind: "params",
    actions: [action(options.run, trainingRunAbi, "setParams", [options.next])],
    description:
      options.description ?? `Run ${options.runId}: set ${summary} (from the next round on)`,
  };
}

/** pause() / unpause() / halt() on the run. */
export function runSwitchProposal(options: {
  kind: "pause" | "resume" | "halt";
  run: Address;
  runId: number;
  description?: string;
}): ProposalDraft {
  const functionName = options.kind === "resume" ? "unpause" : options.kind;
  const defaults = {
    pause: `Pause run ${options.runId}`,
    resume: `Resume run ${options.runId}`,
    halt: `Halt run ${options.runId} for good (no further rounds or emission; stake unlocks)`,
  };
  return {
    kind: options.kind,
    actions: [action(options.run, trainingRunAbi, functionName, [])],
    description: options.description ?? defaults[options.kind],
  };
}

/**
 * Replaces a guardian (the account that may pause without a vote; address(0) = nobody but
 * governance): `TrainingRun.setGuardian` on one run, or, with scope "default",
 * `RunFactory.setDefaultGuardian` for the runs created from then on.
 */
export function guardianProposal(options: {
  scope: "run" | "default";
  /** the run (scope "run") or the RunFactory (scope "default") */
  target: Address;
  runId: number;
  guardian: Address;
  description?: string;
}): ProposalDraft {
  const run = options.scope === "run";
  return {
    kind: "guardian",
    actions: [
      run
        ? action(options.target, trainingRunAbi, "setGuardian", [options.guardian])
        : action(options.target, runFactoryAbi, "setDefaultGuardian", [options.guardian]),
    ],
    description:
      options.description ??
      (run
        ? `Run ${options.runId}: make ${options.guardian} its guardian`
        : `Make ${options.guardian} the guardian of runs created from now on`),
  };
}

/** StakeManager.reverseSlash(slashId): returns an escrowed slash to the account. */
export function reverseSlashProposal(options: {
  stakeManager: Address;
  slashId: bigint;
  description?: string;
}): ProposalDraft {
  return {
    kind: "reverse-slash",
    actions: [action(options.stakeManager, stakeManagerAbi, "reverseSlash", [options.slashId])],
    description: options.description ?? `Reverse slash #${options.slashId}`,
  };
}

/** LearnToken.transfer(to, amount) from the treasury (the timelock holds it). */
export function treasuryTransferProposal(options: {
  token: Address;
  to: Address;
  amount: bigint;
  description?: string;
}): ProposalDraft {
  return {
    kind: "treasury-transfer",
    actions: [action(options.token, learnTokenAbi, "transfer", [options.to, options.amount])],
    description:
      options.description ??
      `Transfer ${formatUnits(options.amount, LEARN_DECIMALS)} LEARN from the treasury to ${options.to}`,
  };
}
