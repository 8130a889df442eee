export type { BlobStore, GetOptions, PutOptions } from "./blob-store.js";
export { computeCid, kuboImporterOptions, parseCid, type KuboImporterOptions } from "./cid.js";
export {
  DEFAULT_CID_VERSION,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_KUBO_CONNECT_TIMEOUT_MS,
  DEFAULT_LISTEN_ADDRESSES,
  KUBO_CHUNK_SIZE,
  KUBO_MAX_CHILDREN_PER_NODE,
  type CidVersion,
} from "./constants.js";
export { HeliaBlobStore, type HeliaBlobStoreInit } from "./helia-blob-store.js";
export { KuboBlobStore, type KuboBlobStoreInit } from "./kubo-blob-store.js";
export { StorageError, type StorageErrorCode } from "./storage-error.js";
