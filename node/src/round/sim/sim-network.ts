import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Address } from "viem";

import { HeliaBlobStore } from "../../storage/index.js";

/** The IPFS side of a simulation: one Helia peer per trainer plus the validator's peer. */
export interface SimNetwork {
  /** Each trainer's own store, where it puts its updates. */
  readonly trainers: ReadonlyMap<Address, HeliaBlobStore>;
  /** The aggregating validator's store: it holds no update until it fetches one over bitswap. */
  readonly validator: HeliaBlobStore;
  /**
   * Makes sure the validator holds a connection to `node`'s peer (dialing again if it was
   * dropped; a no-op otherwise). A long training step blocks the event loop for seconds on a
   * busy machine, long enough for libp2p to close an idle connection, after which bitswap would
   * wait for a provider that never comes.
   */
  connect(node: Address): Promise<void>;
  /** Stops every peer and deletes the temporary folders. */
  stop(): Promise<void>;
}

/**
 * Starts `1 + nodes.length` embedded IPFS peers on loopback TCP, each with its blocks in its
 * own temporary folder, and connects the validator to every trainer. Updates therefore reach
 * the validator only by CID over bitswap, as on the real network.
 */
export async function startSimNetwork(nodes: readonly Address[]): Promise<SimNetwork> {
  const root = await mkdtemp(join(tmpdir(), "protolearn-sim-"));
  const started: HeliaBlobStore[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.map((store) => store.stop()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const open = async (name: string): Promise<HeliaBlobStore> => {
      const store = new HeliaBlobStore({ dataDir: join(root, name) });
      await store.start();
      started.push(store);
      return store;
    };
    const validator = await open("validator");
    const trainers = new Map<Address, HeliaBlobStore>();
    for (const [i, node] of nodes.entries()) {
      const store = await open(`trainer-${i}`);
      trainers.set(node, store);
      await validator.dial(store.multiaddrs()[0] as string);
    }
    // One small blob from each trainer before any training, so that every peer is known to
    // serve bitswap while the event loop is free. Without it, language-model runs on a busy
    // machine sometimes failed their first fetch with a 30 s timeout although the connection
    // was open; the likely cause is libp2p's identify exchange (which tells the validator that
    // a peer speaks bitswap) timing out while an inner loop blocked the event loop for seconds.
    for (const [i, store] of [...trainers.values()].entries()) {
      const probe = await store.put(new TextEncoder().encode(`protolearn/sim/probe/${i}`));
      await validator.get(probe, { timeoutMs: 30_000, maxBytes: 1024 });
    }
    const connect = async (node: Address): Promise<void> => {
      const store = trainers.get(node);
      if (store === undefined) throw new Error(`no store for ${node}`);
      await validator.dial(store.multiaddrs()[0] as string);
    };
    return { trainers, validator, connect, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
