import type { ChainContext } from "../chain/client.js";
import { toChainError } from "../chain/chain-error.js";
import { emptyRecords, type ChainRecords } from "./chain-records.js";
import { scanRecords } from "./scan-records.js";

/**
 * Every record since the deployment block, read up to the chain head (or `toBlock`): what
 * `protolearn audit` works from. Returns the records and the block range they cover.
 */
export async function readRecords(
  chain: ChainContext,
  options: { toBlock?: bigint; chunkBlocks?: bigint; signal?: AbortSignal } = {},
): Promise<{ records: ChainRecords; blocks: { from: number; to: number } }> {
  let head: bigint;
  try {
    head = options.toBlock ?? (await chain.publicClient.getBlockNumber({ cacheTime: 0 }));
  } catch (err) {
    throw toChainError(err, "reading the chain head");
  }
  const from = BigInt(chain.deployment.deploymentBlock);
  const records = await scanRecords({
    client: chain.publicClient,
    deployment: chain.deployment,
    records: emptyRecords(),
    fromBlock: from,
    toBlock: head,
    ...(options.chunkBlocks !== undefined ? { chunkBlocks: options.chunkBlocks } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { records, blocks: { from: Number(from), to: Number(head) } };
}
