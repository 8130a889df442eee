import { ProtolearnError } from "../errors.js";

/**
 * A chain reorganisation on anvil (fault injection for tests and the red team's soak):
 * `anvil_reorg(depth, [])` replaces the last `depth` blocks with empty ones, so the transactions
 * they held are gone (not re-included) and the block hashes at those heights change.
 */
export async function anvilReorg(rpcUrl: string, depth: number): Promise<void> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_reorg", params: [depth, []] }),
  });
  const body = (await response.json()) as { error?: { message: string } };
  if (body.error !== undefined) {
    throw new ProtolearnError(`anvil_reorg(${depth}) failed: ${body.error.message}`, {
      code: "DEVNET_REORG_FAILED",
      fix: "reorgs need an anvil chain (hardhat has no anvil_reorg) and a depth of at most the chain's height",
    });
  }
}
