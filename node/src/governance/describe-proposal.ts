import {
  decodeFunctionData,
  getAddress,
  isAddressEqual,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { learnTokenAbi, runFactoryAbi, stakeManagerAbi, trainingRunAbi } from "../chain/abis.js";
import { formatLearn } from "../chain/learn-amount.js";
import type { ProposalKind } from "./build-proposal.js";

/**
 * Reads a proposal's calls back into a kind and a one-line summary, from the ProposalCreated
 * event alone, so `protolearn proposals` shows what a proposal does, not only what its
 * description claims.
 */

export interface KnownAddresses {
  runs: readonly { runId: number; address: Address }[];
  stakeManager: Address;
  token: Address;
  /** the RunFactory, when known (its setDefaultGuardian is then named) */
  factory?: Address;
}

export interface ActionDescription {
  kind: ProposalKind | "other";
  summary: string;
}

function tryDecode(
  abi: Abi,
  data: Hex,
): { functionName: string; args: readonly unknown[] } | undefined {
  try {
    const decoded = decodeFunctionData({ abi, data });
    return { functionName: decoded.functionName, args: decoded.args ?? [] };
  } catch {
    return undefined;
  }
}

/** What one call does, in words. */
export function describeAction(
  known: KnownAddresses,
  target: Address,
  calldata: Hex,
): ActionDescription {
  const to = getAddress(target);
  const run = known.runs.find((r) => isAddressEqual(r.address, to));
  if (run !== undefined) {
    const call = tryDecode(trainingRunAbi, calldata);
    if (call?.functionName === "setParams")
      return { kind: "params", summary: `set run ${run.runId} parameters` };
    if (call?.functionName === "pause") return { kind: "pause", summary: `pause run ${run.runId}` };
    if (call?.functionName === "unpause")
      return { kind: "resume", summary: `resume run ${run.runId}` };
    if (call?.functionName === "halt") return { kind: "halt", summary: `halt run ${run.runId}` };
    if (call?.functionName === "setGuardian")
      return { kind: "guardian", summary: `make ${String(call.args[0])} the guardian of run ${run.runId}` };
    return {
      kind: "other",
      summary: `run ${run.runId}.${call?.functionName ?? calldata.slice(0, 10)}`,
    };
  }
  if (known.factory !== undefined && isAddressEqual(to, known.factory)) {
    const call = tryDecode(runFactoryAbi, calldata);
    if (call?.functionName === "setDefaultGuardian")
      return { kind: "guardian", summary: `make ${String(call.args[0])} the guardian of new runs` };
    return { kind: "other", summary: `RunFactory.${call?.functionName ?? calldata.slice(0, 10)}` };
  }
  if (isAddressEqual(to, known.stakeManager)) {
    const call = tryDecode(stakeManagerAbi, calldata);
    if (call?.functionName === "reverseSlash")
      return { kind: "reverse-slash", summary: `reverse slash #${String(call.args[0])}` };
    return {
      kind: "other",
      summary: `StakeManager.${call?.functionName ?? calldata.slice(0, 10)}`,
    };
  }
  if (isAddressEqual(to, known.token)) {
    const call = tryDecode(learnTokenAbi, calldata);
    if (call?.functionName === "transfer") {
      const [recipient, amount] = call.args as [Address, bigint];
      return {
        kind: "treasury-transfer",
        summary: `transfer ${formatLearn(amount)} to ${recipient}`,
      };
    }
    return { kind: "other", summary: `LearnToken.${call?.functionName ?? calldata.slice(0, 10)}` };
  }
  return { kind: "other", summary: `call ${to} ${calldata.slice(0, 10)}` };
}

/** The kind of a whole proposal (the single kind of all its calls, else "other") and its summary. */
export function describeActions(
  known: KnownAddresses,
  targets: readonly Address[],
  calldatas: readonly Hex[],
): ActionDescription {
  const parts = targets.map((t, i) => describeAction(known, t, calldatas[i] ?? "0x"));
  const kinds = new Set(parts.map((p) => p.kind));
  const first = parts[0];
  return {
    kind: kinds.size === 1 && first !== undefined ? first.kind : "other",
    summary: parts.map((p) => p.summary).join("; ") || "no calls",
  };
}
