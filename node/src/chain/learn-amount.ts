import { formatUnits } from "viem";

/** LearnToken's decimals. */
export const LEARN_DECIMALS = 18;

/**
 * An amount of LEARN in wei as people read it.
 *
 * @example
 * formatLearn(1_234_500_000_000_000_000_000n); // "1234.5 LEARN"
 */
export function formatLearn(wei: bigint): string {
  return `${formatUnits(wei, LEARN_DECIMALS)} LEARN`;
}
