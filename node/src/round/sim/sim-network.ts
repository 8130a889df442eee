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
    return { trainers, validator, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
