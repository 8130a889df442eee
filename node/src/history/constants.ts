/**
 * Blocks per `eth_getLogs` request when rebuilding the records. Public RPC providers commonly
 * cap a request at 2,000–10,000 blocks or 10,000 logs.
 * @default 2000n
 */
export const DEFAULT_LOG_CHUNK_BLOCKS = 2000n;
