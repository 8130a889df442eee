import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { withBitswap } from "@helia/bitswap";
import { withLibp2pLight, type HeliaWithLibp2p } from "@helia/libp2p";
import { unixfs, type UnixFS } from "@helia/unixfs";
import { identify } from "@libp2p/identify";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { FsBlockstore } from "blockstore-fs";
import { FsDatastore } from "datastore-fs";
import { createHeliaLight } from "helia";
import { join } from "node:path";
import { z } from "zod";

import type { BlobStore, GetOptions, PutOptions } from "./blob-store.js";
import { kuboImporterOptions, parseCid } from "./cid.js";
import {
  DEFAULT_CID_VERSION,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_LISTEN_ADDRESSES,
} from "./constants.js";
import { checkGetOptions, withDeadline } from "./get-options.js";
import { readBounded, tooLarge } from "./read-bounded.js";
import { StorageError } from "./storage-error.js";

const multiaddrString = z.string().refine((value) => {
  try {
    multiaddr(value);
    return true;
  } catch {
    return false;
  }
}, "is not a multiaddr");

const heliaInitSchema = z.object({
  dataDir: z.string().min(1),
  listen: z.array(multiaddrString).min(1).optional(),
  cidVersion: z.union([z.literal(0), z.literal(1)]).optional(),
});

/** How to set up the embedded IPFS node. */
export interface HeliaBlobStoreInit {
  /** Folder for blocks (`blocks/`) and node state such as the peer key (`datastore/`); created if missing. */
  readonly dataDir: string;
  /**
   * Multiaddrs to listen on (TCP only).
   * @default ["/ip4/127.0.0.1/tcp/0"]
   */
  readonly listen?: readonly string[];
  /**
   * 0: Kubo's default CIDs (CIDv0); 1: CIDv1 with raw leaves (`ipfs add --cid-version=1`).
   * @default 0
   */
  readonly cidVersion?: 0 | 1;
}

type Node = HeliaWithLibp2p<{ identify: ReturnType<ReturnType<typeof identify>> }>;

/**
 * The embedded IPFS node: Helia in this process, blocks on disk, libp2p over TCP with Noise
 * and Yamux, blocks exchanged with connected peers over bitswap. It has no bootstrap list, no
 * mDNS, no DHT and no HTTP gateways: it talks only to peers it is told to dial (the run's
 * peers) and to peers that dial it.
 *
 * @example
 * const store = new HeliaBlobStore({ dataDir: "~/.protolearn/ipfs" });
 * await store.start();
 * await store.dial(peerMultiaddr);
 * const cid = await store.put(updateBytes);
 */
export class HeliaBlobStore implements BlobStore {
  private readonly init: { dataDir: string; listen: readonly string[]; cidVersion: 0 | 1 };
  private node: Node | undefined;
  private fs: UnixFS | undefined;
  private stores: { blockstore: FsBlockstore; datastore: FsDatastore } | undefined;

  constructor(init: HeliaBlobStoreInit) {
    const parsed = heliaInitSchema.safeParse(init);
    if (!parsed.success) {
      throw new StorageError(
        `Helia store options are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
        {
          code: "STORAGE_BAD_OPTIONS",
          fix: "set dataDir in the config to a writable folder and storage.listen to TCP multiaddrs such as /ip4/127.0.0.1/tcp/4101",
        },
      );
    }
    this.init = {
      dataDir: parsed.data.dataDir,
      listen: parsed.data.listen ?? DEFAULT_LISTEN_ADDRESSES,
      cidVersion: parsed.data.cidVersion ?? DEFAULT_CID_VERSION,
    };
  }

  async start(): Promise<void> {
    if (this.node) return;
    const blockstore = new FsBlockstore(join(this.init.dataDir, "blocks"));
    const datastore = new FsDatastore(join(this.init.dataDir, "datastore"));
    await blockstore.open();
    await datastore.open();
    this.stores = { blockstore, datastore };
    const node: Node = withBitswap(
      withLibp2pLight(createHeliaLight({ blockstore, datastore }), {
        addresses: { listen: [...this.init.listen] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify() },
        // A node busy in a long synchronous computation (a language-model validator scores an
        // update in tens of seconds of tfjs work; any node on an overloaded machine) cannot answer
        // pings in time, and libp2p's connection monitor (ping every 10 s) would abort its
        // connections: `npm start --model byte-transformer-v1` then found no peer to fetch the
        // round's updates from. A peer that is gone still closes its TCP connections.
        connectionMonitor: { abortConnectionOnPingFailure: false },
      }),
    );
    try {
      await node.start();
    } catch (error) {
      await this.closeStores();
      throw new StorageError(`the IPFS node could not start: ${(error as Error).message}`, {
        code: "STORAGE_BAD_OPTIONS",
        fix: "check that the listen addresses are free and that the data folder is writable",
        cause: error,
      });
    }
    this.node = node;
    this.fs = unixfs(node);
  }

  async stop(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    this.fs = undefined;
    if (node) await node.stop();
    await this.closeStores();
  }

  /** The addresses other peers can dial, each ending in /p2p/<peer id>. */
  multiaddrs(): string[] {
    return this.started()
      .node.libp2p.getMultiaddrs()
      .map((address) => address.toString());
  }

  /** This node's libp2p peer id (stable across restarts: the key is kept in the data folder). */
  peerId(): string {
    return this.started().node.libp2p.peerId.toString();
  }

  /** Peers with an open connection. */
  connectedPeers(): string[] {
    return this.started()
      .node.libp2p.getPeers()
      .map((peer) => peer.toString());
  }

  /** Connects to a peer by multiaddr (including /p2p/<peer id>); blocks then flow both ways over bitswap. */
  async dial(address: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { node } = this.started();
    if (!multiaddrString.safeParse(address).success) {
      throw new StorageError(`${JSON.stringify(address)} is not a multiaddr`, {
        code: "STORAGE_BAD_OPTIONS",
        fix: "pass an address as printed by the peer, e.g. /ip4/127.0.0.1/tcp/4101/p2p/12D3Koo…",
      });
    }
    const timeout = AbortSignal.timeout(DEFAULT_DIAL_TIMEOUT_MS);
    try {
      await node.libp2p.dial(multiaddr(address), {
        signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
      });
    } catch (error) {
      throw new StorageError(`could not connect to ${address}: ${(error as Error).message}`, {
        code: "STORAGE_DIAL_FAILED",
        fix: "check that the peer is running and listening on that address, and that the peer id in the address is current",
        cause: error,
      });
    }
  }

  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<string> {
    const { node, fs } = this.started();
    try {
      const cid = await fs.addBytes(bytes, {
        ...kuboImporterOptions(this.init.cidVersion),
        signal: options.signal,
      });
      if (!(await node.pins.isPinned(cid, { signal: options.signal }))) {
        for await (const _ of node.pins.add(cid, { signal: options.signal })) {
          // Walks the (local) DAG; nothing to do per block.
        }
      }
      return cid.toString();
    } catch (error) {
      throw new StorageError(`storing ${bytes.length} bytes failed: ${(error as Error).message}`, {
        code: "STORAGE_PUT_FAILED",
        fix: "check free disk space and permissions of the IPFS data folder",
        cause: error,
      });
    }
  }

  async get(cidString: string, options: GetOptions): Promise<Uint8Array> {
    checkGetOptions(options);
    const cid = parseCid(cidString);
    const { fs } = this.started();
    return withDeadline(
      cidString,
      options,
      async (signal) => {
        // The root block declares the size: refuse an oversize blob before fetching its leaves.
        const stat = await fs.stat(cid, { signal });
        if (stat.type === "directory") {
          throw new StorageError(`${cidString} is a directory, not a blob`, {
            code: "STORAGE_NOT_A_FILE",
            fix: "treat the update as invalid: updates are single files",
          });
        }
        if (stat.size > BigInt(options.maxBytes))
          throw tooLarge(cidString, stat.size.toString(), options.maxBytes);
        return readBounded(fs.cat(cid, { signal }), options.maxBytes, cidString);
      },
      (error) =>
        new StorageError(`fetching ${cidString} failed: ${(error as Error).message}`, {
          code: "STORAGE_FETCH_FAILED",
          fix: "the blob is not valid UnixFS or its blocks are corrupt: treat the update as invalid",
          cause: error,
        }),
    );
  }

  private started(): { node: Node; fs: UnixFS } {
    if (!this.node || !this.fs) {
      throw new StorageError("the IPFS node is not running", {
        code: "STORAGE_NOT_STARTED",
        fix: "call start() before using the store (the daemon does this at launch)",
      });
    }
    return { node: this.node, fs: this.fs };
  }

  private async closeStores(): Promise<void> {
    const stores = this.stores;
    this.stores = undefined;
    if (!stores) return;
    await stores.blockstore.close();
    await stores.datastore.close();
  }
}
