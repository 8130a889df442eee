/**
 * Where the embedded IPFS node listens: loopback TCP on a free port, so nothing is exposed
 * unless the operator asks for it (e.g. "/ip4/0.0.0.0/tcp/4101").
 * @default ["/ip4/127.0.0.1/tcp/0"]
 */
export const DEFAULT_LISTEN_ADDRESSES: readonly string[] = ["/ip4/127.0.0.1/tcp/0"];

/**
 * CID version of stored blobs. 0 is Kubo's `ipfs add` default (CIDv0, dag-pb leaves); 1 is
 * `ipfs add --cid-version=1` (CIDv1, raw leaves).
 * @default 0
 */
export const DEFAULT_CID_VERSION: CidVersion = 0;

/** Kubo's default chunker, `size-262144`: fixed 256 KiB chunks. */
export const KUBO_CHUNK_SIZE = 262_144;

/** Kubo's default `Import.UnixFSFileMaxLinks`: children per node of the balanced DAG. */
export const KUBO_MAX_CHILDREN_PER_NODE = 174;

/**
 * How long dialing a peer may take.
 * @default 10000
 */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

/**
 * How long a Kubo daemon may take to answer the start-up check.
 * @default 5000
 */
export const DEFAULT_KUBO_CONNECT_TIMEOUT_MS = 5_000;

/** The two import settings that match Kubo. */
export type CidVersion = 0 | 1;
