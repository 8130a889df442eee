import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

/**
 * Compiles the contracts and regenerates their types when they are missing or stale, through
 * Hardhat's own incremental build (about a second, and silent, when nothing changed). Every
 * path that deploys (`protolearn deploy`, `protolearn devnet`, `npm start`) calls it first,
 * so a fresh clone needs nothing but `npm ci`.
 *
 * @example
 * const hre = (await import("hardhat")).default;
 * await buildContracts(hre);
 */
export async function buildContracts(hre: HardhatRuntimeEnvironment): Promise<void> {
  await hre.tasks.getTask("build").run({ quiet: true });
}
