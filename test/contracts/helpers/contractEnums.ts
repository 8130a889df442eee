import * as contractEnums from "../../../node/src/chain/contract-enums.js";
import { ROUND_PHASES, type RoundPhase } from "../../../node/src/run/round-phase.js";

/**
 * The contracts' enums for the contract tests, as ethers returns a uint8 enum (bigint):
 * `Role.Trainer === 1n`. Names and order come from node/src's one definition of each
 * (chain/contract-enums.ts, and run/round-phase.ts for the phase), nothing is listed here.
 */

function bigintEnum<const E extends Readonly<Record<string, number>>>(
  values: E,
): { readonly [K in keyof E]: bigint } {
  return Object.freeze(
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, BigInt(value)])),
  ) as { readonly [K in keyof E]: bigint };
}

export const Role = bigintEnum(contractEnums.Role);
export const SlashReason = bigintEnum(contractEnums.SlashReason);
export const SlashStatus = bigintEnum(contractEnums.SlashStatus);
export const RunStatus = bigintEnum(contractEnums.RunStatus);
export const RoundFailure = bigintEnum(contractEnums.RoundFailure);
export const ProposalState = bigintEnum(contractEnums.ProposalState);
/** `castVote`'s support argument (ethers takes a number). */
export const VoteType = contractEnums.VoteType;

type PascalCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${Capitalize<H>}${PascalCase<T>}`
  : Capitalize<S>;

/** "vote-reveal" -> "VoteReveal": the contract's name of a node phase name. */
function pascalCase(phase: string): string {
  return phase
    .split("-")
    .map((part) => `${part[0]!.toUpperCase()}${part.slice(1)}`)
    .join("");
}

/** `ITrainingRun.Phase` (`Phase.Commit === 0n`, `Phase.VoteReveal === 3n`, …), from `ROUND_PHASES`. */
export const Phase = bigintEnum(
  Object.fromEntries(
    ROUND_PHASES.map((phase, index) => [pascalCase(phase), index]),
  ) as { readonly [P in RoundPhase as PascalCase<P>]: number },
);
