import type { Abi, Address, Chain, Log, PublicClient, Transport } from "viem";
import { decodeEventLog } from "viem";
import type { Logger } from "../observe/logger.js";

/**
 * Follows a set of contracts' events in block order, `confirmations` blocks behind the head,
 * from a resumable cursor. RPC failures (a restarted chain node, a dropped connection) are
 * logged and retried with backoff; the follower never skips a block and never delivers one
 * twice within a run, and `onProgress` lets the caller persist the cursor to resume after a
 * restart.
 */

export interface DecodedLog {
  address: Address;
  eventName: string;
  args: Record<string, unknown>;
  blockNumber: bigint;
  logIndex: number;
  transactionHash: `0x${string}`;
}

export interface FollowOptions {
  client: PublicClient<Transport, Chain | undefined>;
  addresses: Address[];
  abi: Abi;
  /** First block to read. */
  fromBlock: bigint;
  confirmations: number;
  /** Poll interval when caught up. @default 500 */
  pollMs?: number;
  /** Max blocks per getLogs call. @default 2000 */
  chunkSize?: bigint;
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?: (lastProcessedBlock: bigint) => void | Promise<void>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Decodes raw logs with `abi`, dropping logs of events the ABI does not know. */
export function decodeLogs(abi: Abi, logs: Log[]): DecodedLog[] {
  const out: DecodedLog[] = [];
  for (const log of logs) {
    try {
      const decoded = decodeEventLog({ abi, data: log.data, topics: log.topics });
      out.push({
        address: log.address,
        eventName: decoded.eventName ?? "",
        args: (decoded.args ?? {}) as Record<string, unknown>,
        blockNumber: log.blockNumber ?? 0n,
        logIndex: log.logIndex ?? 0,
        transactionHash: log.transactionHash ?? "0x",
      });
    } catch {
      // Not one of ours (or a foreign event with the same address): skip.
    }
  }
  return out.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
}

/** Yields batches of decoded logs until `signal` aborts. */
export async function* followLogs(options: FollowOptions): AsyncGenerator<DecodedLog[]> {
  const { client, signal, logger } = options;
  const chunk = options.chunkSize ?? 2000n;
  let next = options.fromBlock;
  let failures = 0;
  while (signal?.aborted !== true) {
    try {
      const head = await client.getBlockNumber({ cacheTime: 0 });
      const safe = head - BigInt(options.confirmations);
      if (safe < next) {
        await sleep(options.pollMs ?? 500, signal);
        continue;
      }
      const to = safe - next + 1n > chunk ? next + chunk - 1n : safe;
      const logs = await client.getLogs({ address: options.addresses, fromBlock: next, toBlock: to });
      failures = 0;
      const decoded = decodeLogs(options.abi, logs);
      if (decoded.length > 0) yield decoded;
      await options.onProgress?.(to);
      next = to + 1n;
    } catch (err) {
      failures += 1;
      const delay = Math.min(10_000, 250 * 2 ** Math.min(failures, 6));
      logger?.warn("chain unreachable, retrying", { error: err instanceof Error ? err.message.split("\n")[0] : String(err), delayMs: delay });
      await sleep(delay, signal);
    }
  }
}
