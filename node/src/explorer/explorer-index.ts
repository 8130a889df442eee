import { join } from "node:path";
import { z } from "zod";
import { emptyRecords, scanRecords, type ChainRecords } from "../history/index.js";
import type { ChainContext } from "../chain/client.js";
import { readIfExists, writeDurable } from "../persist/durable-file.js";
import type { Logger } from "../observe/logger.js";
import { DEFAULT_REFRESH_MS } from "./constants.js";

/**
 * The explorer's view of the chain: the audit's records (node/src/audit), built from events
 * and kept on disk with the last block they cover, so a restart reads the file and only scans
 * the blocks mined since. The cache is keyed by chain id, deployment block and contract
 * addresses: a cache of another deployment (a restarted devnet) is ignored and rebuilt.
 * Events newer than `confirmations` blocks are left for a later sync, so a reorg of the last
 * blocks never lands in the cache.
 */

const cacheSchema = z.object({
  version: z.literal(3),
  key: z.string(),
  lastBlock: z.number().int().min(-1),
  records: z.custom<ChainRecords>(
    (v) => typeof v === "object" && v !== null && (v as { version?: unknown }).version === 3,
  ),
});

export interface ExplorerIndexOptions {
  chain: ChainContext;
  /** Folder of the cache file (created if missing). */
  cacheDir: string;
  /** Blocks an event must be buried under before it is indexed. */
  confirmations: number;
  /** Blocks per eth_getLogs call. */
  chunkBlocks?: bigint;
  /** A request re-syncs when the last sync is older than this. @default DEFAULT_REFRESH_MS */
  refreshMs?: number;
  logger: Logger;
}

export class ExplorerIndex {
  private data: { lastBlock: number; records: ChainRecords };
  private syncing: Promise<void> | undefined;
  private lastSyncAt = 0;
  /** Chain head seen at the last sync. */
  head = -1;

  private constructor(
    private readonly options: ExplorerIndexOptions,
    private readonly path: string,
    private readonly key: string,
    data: { lastBlock: number; records: ChainRecords },
    /** Whether the records came from the disk cache. */
    readonly fromCache: boolean,
  ) {
    this.data = data;
  }

  /** Opens the cache for `chain`'s deployment (or starts empty). */
  static async open(options: ExplorerIndexOptions): Promise<ExplorerIndex> {
    const d = options.chain.deployment;
    const key = [d.chainId, d.deploymentBlock, ...Object.values(d.contracts)]
      .join(":")
      .toLowerCase();
    const path = join(options.cacheDir, `records-${d.network}-${d.chainId}.json`);
    const fresh = { lastBlock: d.deploymentBlock - 1, records: emptyRecords() };
    const raw = await readIfExists(path);
    if (raw === undefined) return new ExplorerIndex(options, path, key, fresh, false);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    const cache = cacheSchema.safeParse(parsed);
    if (!cache.success || cache.data.key !== key) {
      options.logger.warn(
        "ignoring the cache of another deployment or an unreadable cache; rebuilding from events",
        { path },
      );
      return new ExplorerIndex(options, path, key, fresh, false);
    }
    return new ExplorerIndex(
      options,
      path,
      key,
      { lastBlock: cache.data.lastBlock, records: cache.data.records },
      true,
    );
  }

  get records(): ChainRecords {
    return this.data.records;
  }

  /** Last block whose events are in the records. */
  get syncedTo(): number {
    return this.data.lastBlock;
  }

  /** Syncs unless a sync finished less than `refreshMs` ago; concurrent callers share one sync. */
  async refresh(): Promise<void> {
    if (Date.now() - this.lastSyncAt < (this.options.refreshMs ?? DEFAULT_REFRESH_MS))
      return this.syncing;
    return this.sync();
  }

  /** Reads the events of every block mined since the last sync (minus confirmations) and saves the cache. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
      this.lastSyncAt = Date.now();
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const { chain, confirmations } = this.options;
    const head = Number(await chain.publicClient.getBlockNumber({ cacheTime: 0 }));
    this.head = head;
    const target = head - confirmations;
    if (target <= this.data.lastBlock) return;
    // Scan into a copy: a failure half-way leaves the served records consistent with lastBlock.
    const records = structuredClone(this.data.records);
    let lastBlock = this.data.lastBlock;
    await scanRecords({
      client: chain.publicClient,
      deployment: chain.deployment,
      records,
      fromBlock: BigInt(this.data.lastBlock + 1),
      toBlock: BigInt(target),
      ...(this.options.chunkBlocks !== undefined ? { chunkBlocks: this.options.chunkBlocks } : {}),
      onChunk: (to) => {
        lastBlock = Number(to);
      },
    });
    this.data = { lastBlock, records };
    await writeDurable(
      this.path,
      JSON.stringify({ version: 3, key: this.key, lastBlock, records }),
    );
  }
}
