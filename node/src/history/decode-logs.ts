import type { Abi, Address, Log } from "viem";
import { decodeEventLog } from "viem";

/** A log decoded with the system's ABIs: what the records reducer consumes. */
export interface DecodedLog {
  address: Address;
  eventName: string;
  args: Record<string, unknown>;
  blockNumber: bigint;
  logIndex: number;
  transactionHash: `0x${string}`;
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
