import { formatUnits, isHex, parseUnits, type ContractFunctionReturnType, type Hex } from "viem";
import { trainingRunAbi } from "../chain/abis.js";
import { modelIdFromName } from "../codec/model-id.js";
import { GovernanceError } from "./governance-error.js";
import { LEARN_DECIMALS } from "../chain/learn-amount.js";

/**
 * The run parameters a `params` proposal may change, read from the generated TrainingRun ABI
 * (the `RunParams` tuple of `setParams`), so the names and integer widths the CLI accepts are
 * always the contract's. The contract still enforces each parameter's bounds; the CLI
 * simulates the call as the timelock before proposing, so a value out of bounds is refused
 * before anything is sent.
 */

/** A run's parameters as viem decodes them (`params()`, `pendingParams()`). */
export type RunParams = ContractFunctionReturnType<typeof trainingRunAbi, "view", "params">;

export type RunParamName = keyof RunParams & string;

export interface RunParamField {
  name: RunParamName;
  /** Solidity type: `uint8` … `uint128`, or `bytes32` (modelId). */
  type: string;
  /** Whether the value is a LEARN amount (given and shown in LEARN, stored in wei). */
  isAmount: boolean;
}

/** Fields given in LEARN (18 decimals) rather than as raw integers. */
const AMOUNT_FIELDS: ReadonlySet<string> = new Set([
  "minTrainerStake",
  "minValidatorStake",
  "emissionPerRound",
]);


function setParamsComponents(): readonly { name: string; type: string }[] {
  for (const item of trainingRunAbi) {
    if (item.type === "function" && item.name === "setParams") {
      const tuple = item.inputs[0];
      if (tuple !== undefined && "components" in tuple) return tuple.components;
    }
  }
  throw new Error(
    "the generated TrainingRun ABI has no setParams(RunParams) — regenerate it with `npx tsx scripts/gen-abi.ts`",
  );
}

/** Every field of RunParams, in struct order. */
export const RUN_PARAM_FIELDS: readonly RunParamField[] = setParamsComponents().map((c) => ({
  name: c.name as RunParamName,
  type: c.type,
  isAmount: AMOUNT_FIELDS.has(c.name),
}));

const FIELD_BY_NAME = new Map(RUN_PARAM_FIELDS.map((f) => [f.name as string, f]));

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The field called `name`, or an error that names the closest match and the valid names. */
export function runParamField(name: string): RunParamField {
  const field = FIELD_BY_NAME.get(name);
  if (field !== undefined) return field;
  const closest = [...FIELD_BY_NAME.keys()].sort(
    (a, b) => editDistance(name, a) - editDistance(name, b),
  )[0];
  throw new GovernanceError(`"${name}" is not a run parameter`, {
    code: "GOVERNANCE_UNKNOWN_PARAM",
    fix: `${closest !== undefined && editDistance(name, closest) <= 3 ? `did you mean ${closest}? ` : ""}valid names: ${[...FIELD_BY_NAME.keys()].join(", ")}`,
  });
}

function badValue(field: RunParamField, raw: string, expected: string): GovernanceError {
  return new GovernanceError(`${field.name}=${raw} is not valid: ${field.name} is ${expected}`, {
    code: "GOVERNANCE_BAD_PARAM_VALUE",
    fix: `give ${field.name} ${expected}`,
  });
}

/** Parses the text of one field's new value into the type viem encodes for it. */
export function parseRunParamValue(field: RunParamField, raw: string): RunParams[RunParamName] {
  const text = raw.trim().replace(/_/g, "");
  if (field.type === "bytes32") {
    if (isHex(text)) {
      if (text.length !== 66)
        throw badValue(field, raw, "a 32-byte hex value or a model name such as mnist-mlp-v1");
      return text as Hex;
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text)) {
      throw badValue(field, raw, "a 32-byte hex value or a model name such as mnist-mlp-v1");
    }
    return modelIdFromName(text); // modelId = keccak256 of the model's id string
  }
  const bits = /^uint(\d+)$/.exec(field.type)?.[1];
  if (bits === undefined) throw badValue(field, raw, `of unsupported type ${field.type}`);
  const max = (1n << BigInt(bits)) - 1n;
  let value: bigint;
  if (field.isAmount) {
    if (!/^\d+(\.\d{1,18})?$/.test(text))
      throw badValue(field, raw, "an amount of LEARN such as 150 or 0.5");
    value = parseUnits(text, LEARN_DECIMALS);
  } else {
    if (!/^\d+$/.test(text)) throw badValue(field, raw, `a whole number from 0 to ${max}`);
    value = BigInt(text);
  }
  if (value > max)
    throw badValue(
      field,
      raw,
      `a ${field.type} (at most ${field.isAmount ? `${formatUnits(max, LEARN_DECIMALS)} LEARN` : max})`,
    );
  // viem types integers of up to 48 bits as number, wider ones as bigint.
  return (Number(bits) <= 48 ? Number(value) : value) as RunParams[RunParamName];
}

/** A value as the CLI shows it: LEARN amounts in LEARN, the rest as is. */
export function formatRunParamValue(field: RunParamField, value: unknown): string {
  if (field.isAmount && typeof value === "bigint")
    return `${formatUnits(value, LEARN_DECIMALS)} LEARN`;
  return String(value);
}

export interface RunParamChange {
  name: RunParamName;
  from: string;
  to: string;
}

/**
 * Applies `name=value` assignments to `current`. Unknown names, malformed assignments, a name
 * given twice, and a set that changes nothing are errors.
 */
export function applyRunParamChanges(
  current: RunParams,
  assignments: readonly string[],
): { next: RunParams; changes: RunParamChange[] } {
  if (assignments.length === 0) {
    throw new GovernanceError("a params proposal needs at least one --set name=value", {
      code: "GOVERNANCE_NO_CHANGES",
      fix: "add e.g. --set innerSteps=100 (see `protolearn propose params --help` for the names)",
    });
  }
  const next: Record<string, unknown> = { ...current };
  const seen = new Set<string>();
  const changes: RunParamChange[] = [];
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0 || eq === assignment.length - 1) {
      throw new GovernanceError(`--set ${assignment} is not of the form name=value`, {
        code: "GOVERNANCE_BAD_ASSIGNMENT",
        fix: "write each change as --set name=value, e.g. --set innerSteps=100",
      });
    }
    const field = runParamField(assignment.slice(0, eq).trim());
    if (seen.has(field.name)) {
      throw new GovernanceError(`${field.name} is set twice`, {
        code: "GOVERNANCE_BAD_ASSIGNMENT",
        fix: `keep one --set ${field.name}=… per proposal`,
      });
    }
    seen.add(field.name);
    const value = parseRunParamValue(field, assignment.slice(eq + 1));
    const old = current[field.name];
    next[field.name] = value;
    if (old !== value)
      changes.push({
        name: field.name,
        from: formatRunParamValue(field, old),
        to: formatRunParamValue(field, value),
      });
  }
  if (changes.length === 0) {
    throw new GovernanceError(
      "every --set value equals the run's current parameter, so the proposal would change nothing",
      {
        code: "GOVERNANCE_NO_CHANGES",
        fix: "check the current values with `protolearn status --json` and set different ones",
      },
    );
  }
  return { next: next as RunParams, changes };
}
