import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "../storage/blob-store.js";
import { HeliaBlobStore, KuboBlobStore, StorageError } from "../storage/index.js";
import type { Logger } from "../observe/logger.js";

/** How an auditor reaches IPFS: a Kubo daemon, or its own Helia peer dialling the run's peers. */
export type AuditStoreOptions =
  | { kind: "kubo"; url: string }
  | {
      kind: "helia";
      /** Multiaddrs (with /p2p/<id>) of peers that hold the run's updates: the nodes' IPFS addresses. */
      peers: readonly string[];
      /** Where the peer keeps blocks; a temporary folder (removed on close) if omitted. */
      dataDir?: string;
      /** @default ["/ip4/127.0.0.1/tcp/0"] */
      listen?: readonly string[];
    };

export interface AuditStore {
  store: BlobStore;
  /** Peers that could not be dialled (each with why); fetching then relies on the others. */
  unreachablePeers: { peer: string; error: string }[];
  close(): Promise<void>;
}

/**
 * Opens the store `audit --verify` and the explorer fetch updates through. A peer that cannot be
 * dialled is reported, not fatal: its updates then show up as unreachable in the audit, which is
 * exactly what an auditor has to know.
 */
export async function openAuditStore(
  options: AuditStoreOptions,
  logger?: Logger,
): Promise<AuditStore> {
  if (options.kind === "kubo") {
    const store = new KuboBlobStore({ url: options.url });
    await store.start();
    return { store, unreachablePeers: [], close: () => store.stop() };
  }
  const owned =
    options.dataDir === undefined
      ? await mkdtemp(join(tmpdir(), "protolearn-audit-ipfs-"))
      : undefined;
  const store = new HeliaBlobStore({
    dataDir: options.dataDir ?? (owned as string),
    ...(options.listen !== undefined ? { listen: options.listen } : {}),
  });
  await store.start();
  const unreachablePeers: AuditStore["unreachablePeers"] = [];
  for (const peer of options.peers) {
    try {
      await store.dial(peer);
    } catch (err) {
      if (!(err instanceof StorageError) || err.code === "STORAGE_BAD_OPTIONS") {
        await store.stop();
        throw err;
      }
      unreachablePeers.push({ peer, error: err.message });
      logger?.warn("IPFS peer unreachable", { peer, error: err.message });
    }
  }
  return {
    store,
    unreachablePeers,
    close: async () => {
      await store.stop();
      if (owned !== undefined) await rm(owned, { recursive: true, force: true });
    },
  };
}
