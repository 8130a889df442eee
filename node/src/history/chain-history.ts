import type { Chain, PublicClient, Transport } from "viem";
import { toChainError } from "../chain/chain-error.js";
import type { Deployment } from "../chain/deployment.js";
import { emptyRecords, type ChainRecords, type RunRecord } from "./chain-records.js";
import { HistoryError } from "./history-error.js";
import { scanRecords } from "./scan-records.js";

/** Inputs of {@link ChainHistory}. */
export interface ChainHistoryOptions {
  client: PublicClient<Transport, Chain | undefined>;
  deployment: Deployment;
  /** Blocks an event must be buried under before it is read. @default 0 */
  confirmations?: number;
  /** Blocks per `eth_getLogs` call. @default DEFAULT_LOG_CHUNK_BLOCKS */
  chunkBlocks?: bigint;
}

/**
 * The system's history as its events tell it, kept up to date incrementally: every reader of
 * past events (the daemon's round and parameter history, model sync, governance listings,
 * `protolearn status`, the `npm start` report, the audit and the explorer) reads through
 * {@link scanRecords} into one {@link ChainRecords}, so there is one event-reading path and one
 * reducer. Each {@link sync} reads only the blocks mined since the last one; concurrent callers
 * share one sync. A reorg is noticed by the hash of the last block read: when the chain's block
 * at that height is another one, the records are rebuilt from the deployment block (the reducer
 * only adds events, and a dropped event must not stay — a node that aggregated a round's
 * accepted set with events of dropped blocks built another model than the committee).
 *
 * @example
 * const history = new ChainHistory({ client: ctx.publicClient, deployment: ctx.deployment });
 * const records = await history.sync();
 * const run = history.run(1);
 */
export class ChainHistory {
  private records: ChainRecords = emptyRecords();
  private lastBlock: bigint;
  /** The hash of `lastBlock` when it was read (undefined before the first chunk). */
  private lastHash: `0x${string}` | undefined;
  private syncing: Promise<ChainRecords> | undefined;

  constructor(private readonly options: ChainHistoryOptions) {
    this.lastBlock = BigInt(options.deployment.deploymentBlock) - 1n;
  }

  /** The last block the records cover. */
  get coveredTo(): bigint {
    return this.lastBlock;
  }

  /** Reads every event up to the chain head (less confirmations) and returns the records. */
  sync(signal?: AbortSignal): Promise<ChainRecords> {
    this.syncing ??= this.syncOnce(signal).finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(signal?: AbortSignal): Promise<ChainRecords> {
    const { client, deployment } = this.options;
    let head: bigint;
    try {
      head = await client.getBlockNumber({ cacheTime: 0 });
    } catch (err) {
      throw toChainError(err, "reading the chain head");
    }
    if (this.lastHash !== undefined && (await this.reorganized())) {
      this.records = emptyRecords();
      this.lastBlock = BigInt(deployment.deploymentBlock) - 1n;
      this.lastHash = undefined;
    }
    const target = head - BigInt(this.options.confirmations ?? 0);
    if (target <= this.lastBlock) return this.records;
    await scanRecords({
      client,
      deployment,
      records: this.records,
      fromBlock: this.lastBlock + 1n,
      toBlock: target,
      ...(this.options.chunkBlocks !== undefined ? { chunkBlocks: this.options.chunkBlocks } : {}),
      ...(signal ? { signal } : {}),
      onChunk: (to) => {
        this.lastBlock = to;
      },
    });
    this.lastHash = await this.hashAt(this.lastBlock);
    return this.records;
  }

  /** Whether the block last read is no longer the chain's block at that height. */
  private async reorganized(): Promise<boolean> {
    const now = await this.hashAt(this.lastBlock);
    return now !== this.lastHash;
  }

  private async hashAt(block: bigint): Promise<`0x${string}` | undefined> {
    try {
      return (await this.options.client.getBlock({ blockNumber: block })).hash ?? undefined;
    } catch (err) {
      // a block past the head after a reorg that shortened the chain reads as missing
      if (/not found|could not be found/i.test(err instanceof Error ? err.message : String(err))) return undefined;
      throw toChainError(err, `reading block ${block}`);
    }
  }

  /** The records as of the last sync. */
  get current(): ChainRecords {
    return this.records;
  }

  /** Run `runId`'s record as of the last sync; throws when the run has no creation event. */
  run(runId: number): RunRecord {
    const run = this.records.runs[String(runId)];
    if (run === undefined || run.created === null) {
      throw new HistoryError(`no RunCreated event for run ${runId} up to block ${this.lastBlock}`, {
        code: "HISTORY_RUN_MISSING",
        fix: "check the run id, and deploymentBlock in deployments/<network>.json (it must be at or before the run's creation)",
      });
    }
    return run;
  }
}
