/**
 * Content-addressed storage of updates and checkpoints. Implementations: `HeliaBlobStore`
 * (embedded IPFS node, the default) and `KuboBlobStore` (an external Kubo daemon). Both produce
 * the CID Kubo's `ipfs add` would for the same bytes and settings, so a blob put through one
 * can be fetched through the other.
 */
export interface BlobStore {
  /** Opens the store (and its network, if any). Call before put/get. */
  start(): Promise<void>;
  /** Closes the store; idempotent. */
  stop(): Promise<void>;
  /** Stores `bytes` (and pins them) and returns their CID as a string. */
  put(bytes: Uint8Array, options?: PutOptions): Promise<string>;
  /**
   * Fetches the blob behind `cid`. Rejects with a StorageError: `STORAGE_TIMEOUT` after
   * `timeoutMs`, `STORAGE_TOO_LARGE` as soon as the blob is known or seen to exceed `maxBytes`
   * (without buffering past the limit), `STORAGE_BAD_CID`, `STORAGE_ABORTED`.
   */
  get(cid: string, options: GetOptions): Promise<Uint8Array>;
}

export interface PutOptions {
  readonly signal?: AbortSignal;
}

export interface GetOptions {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Refuse blobs larger than this many bytes. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}
