import { isAddressEqual, type Abi, type Address, type Chain, type PublicClient, type Transport } from "viem";
import { runFactoryAbi, runGovernorAbi, stakeManagerAbi, trainingRunAbi } from "../chain/abis.js";
import { toChainError } from "../chain/chain-error.js";
import type { Deployment } from "../chain/deployment.js";
import { decodeLogs, type DecodedLog } from "./decode-logs.js";
import { DEFAULT_LOG_CHUNK_BLOCKS } from "./constants.js";
import type { ChainRecords } from "./chain-records.js";
import { recordEvents } from "./record-events.js";

/** Every protolearn event the records are built from (run, factory, stake manager, governor). */
export const recordsAbi = [
  ...trainingRunAbi.filter((item) => item.type === "event"),
  ...runFactoryAbi.filter((item) => item.type === "event"),
  ...stakeManagerAbi.filter((item) => item.type === "event"),
  ...runGovernorAbi.filter((item) => item.type === "event"),
] as Abi;

/** Inputs of {@link scanRecords}. */
export interface ScanRecordsParameters {
  client: PublicClient<Transport, Chain | undefined>;
  deployment: Deployment;
  /** Records to extend (mutated); they must hold everything up to `fromBlock − 1`. */
  records: ChainRecords;
  /** First block to read. */
  fromBlock: bigint;
  /** Last block to read (inclusive). */
  toBlock: bigint;
  /** Blocks per `eth_getLogs` call. @default DEFAULT_LOG_CHUNK_BLOCKS (2000) */
  chunkBlocks?: bigint;
  /** Called after each chunk is in `records`, with its last block: persist a cursor here. */
  onChunk?: (lastBlock: bigint) => void | Promise<void>;
  signal?: AbortSignal;
}

function runAddresses(records: ChainRecords, deployment: Deployment): Address[] {
  const seen = new Set<string>();
  const out: Address[] = [];
  for (const address of [
    ...deployment.runs.map((r) => r.address),
    ...Object.values(records.runs).map((r) => r.address),
  ]) {
    if (seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    out.push(address);
  }
  return out;
}

/**
 * Reads the system's events from `fromBlock` to `toBlock` in chunks and adds them to `records`.
 * Runs created by governance are picked up on the way: when a chunk holds a `RunCreated`, the new
 * run's own events of that chunk are fetched too before the chunk is applied, so no event of a
 * run is ever missed, and later chunks include the run's address.
 */
export async function scanRecords(input: ScanRecordsParameters): Promise<ChainRecords> {
  const { client, deployment, records } = input;
  const chunk = input.chunkBlocks ?? DEFAULT_LOG_CHUNK_BLOCKS;
  const fixed: Address[] = [
    deployment.contracts.RunFactory,
    deployment.contracts.StakeManager,
    deployment.contracts.RunGovernor,
  ];
  let from = input.fromBlock;
  while (from <= input.toBlock) {
    input.signal?.throwIfAborted();
    const to = input.toBlock - from + 1n > chunk ? from + chunk - 1n : input.toBlock;
    const known = runAddresses(records, deployment);
    let logs: DecodedLog[] = decodeLogs(
      recordsAbi,
      await getLogs(client, [...fixed, ...known], from, to),
    );
    const knownSet = new Set(known.map((a) => a.toLowerCase()));
    const created = logs
      .filter(
        (l) =>
          l.eventName === "RunCreated" &&
          isAddressEqual(l.address, deployment.contracts.RunFactory),
      )
      .map((l) => l.args.run)
      .filter((a): a is Address => typeof a === "string" && !knownSet.has(a.toLowerCase()));
    if (created.length > 0) {
      logs = decodeLogs(
        recordsAbi,
        await getLogs(client, [...fixed, ...known, ...created], from, to),
      );
    }
    recordEvents(records, logs, deployment);
    await input.onChunk?.(to);
    from = to + 1n;
  }
  return records;
}

async function getLogs(
  client: ScanRecordsParameters["client"],
  address: Address[],
  fromBlock: bigint,
  toBlock: bigint,
) {
  try {
    return await client.getLogs({ address, fromBlock, toBlock });
  } catch (err) {
    throw toChainError(err, `reading events of blocks ${fromBlock}–${toBlock}`);
  }
}
