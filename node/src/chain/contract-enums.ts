/**
 * The Solidity enums the node reads and writes, defined once. Each list holds the enum's member
 * names in declaration order, so a member's index is its on-chain uint8 value; the `Xxx` objects
 * map names to values for writes (`join(Role.Trainer)`). test/node/contract-enums.test.ts
 * checks every list against the Solidity source and the generated ABIs, so reordering an enum
 * in a contract fails a test instead of silently shifting meanings.
 *
 * The round phase (`ITrainingRun.Phase`) has its own home beside the phase rules:
 * node/src/run/round-phase.ts (`ROUND_PHASES`, `phaseName`).
 */

type EnumValues<Names extends readonly string[]> = { readonly [Name in Names[number]]: number };

/** `{ name: index }` of an enum's member list. */
function enumValues<const Names extends readonly string[]>(names: Names): EnumValues<Names> {
  return Object.freeze(Object.fromEntries(names.map((name, index) => [name, index]))) as EnumValues<Names>;
}

/**
 * The member name of an on-chain enum value; a value outside the list (a newer contract, or a
 * wrong deployment) is named, not guessed.
 *
 * @example
 * enumName(SLASH_REASONS, 2); // "NoReveal"
 * enumName(SLASH_REASONS, 9); // "unknown(9)"
 */
export function enumName<const Names extends readonly string[]>(
  names: Names,
  value: number | bigint,
): Names[number] | `unknown(${number})` {
  return names[Number(value)] ?? `unknown(${Number(value)})`;
}

// ---------------------------------------------------------------- ITrainingRun

/** `ITrainingRun.Role`: what an account is in a run. */
export const ROLES = ["None", "Trainer", "Validator"] as const;
export type RoleName = (typeof ROLES)[number];
export const Role = enumValues(ROLES);

/** A role a node can join with, as config files and CLI flags spell it. */
export type NodeRole = "trainer" | "validator";

/** The on-chain value of a node role (the argument of `join`). */
export function roleValue(role: NodeRole): number {
  return role === "trainer" ? Role.Trainer : Role.Validator;
}

/** An on-chain role as config files and CLI output spell it: "none", "trainer", "validator". */
export function roleWord(value: number | bigint): Lowercase<RoleName> | `unknown(${number})` {
  const name = enumName(ROLES, value);
  return name.startsWith("unknown(") ? (name as `unknown(${number})`) : (name.toLowerCase() as Lowercase<RoleName>);
}

/** `ITrainingRun.RoundFailure`: why a round closed without changing the model. */
export const ROUND_FAILURES = [
  "None",
  "NoValidatorVotes",
  "NoModelMajority",
  "TooFewAcceptedUpdates",
  "PausedDuringRound",
] as const;
export type RoundFailureName = (typeof ROUND_FAILURES)[number];
export const RoundFailure = enumValues(ROUND_FAILURES);

// ---------------------------------------------------------------- IStakeManager

/** `IStakeManager.SlashReason`: why stake was slashed. */
export const SLASH_REASONS = ["None", "InvalidUpdate", "NoReveal", "ValidatorDisagreement", "VoteNotRevealed"] as const;
export type SlashReasonName = (typeof SLASH_REASONS)[number];
export const SlashReason = enumValues(SLASH_REASONS);

/** `IStakeManager.SlashStatus`: where a slash record is in its appeal lifecycle. */
export const SLASH_STATUSES = ["None", "Escrowed", "Reversed", "Resolved"] as const;
export const SlashStatus = enumValues(SLASH_STATUSES);

/** `IStakeManager.RunStatus`: whether a run may lock and slash (registered by the factory) or
 *  no longer (deregistered by governance once halted). */
export const RUN_STATUSES = ["None", "Registered", "Deregistered"] as const;
export const RunStatus = enumValues(RUN_STATUSES);

// ---------------------------------------------------------------- OpenZeppelin Governor

/** `IGovernor.ProposalState` (OpenZeppelin 5). */
export const PROPOSAL_STATES = [
  "Pending",
  "Active",
  "Canceled",
  "Defeated",
  "Succeeded",
  "Queued",
  "Expired",
  "Executed",
] as const;
export type ProposalStateName = (typeof PROPOSAL_STATES)[number];
export const ProposalState = enumValues(PROPOSAL_STATES);

/** `GovernorCountingSimple.VoteType`: the `support` argument of `castVote`. */
export const VOTE_TYPES = ["Against", "For", "Abstain"] as const;
export type VoteTypeName = (typeof VOTE_TYPES)[number];
export const VoteType = enumValues(VOTE_TYPES);
