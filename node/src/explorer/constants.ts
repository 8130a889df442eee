import { join } from "node:path";
import { DEFAULT_HOME } from "../config/config.js";

/** @default 8787 */
export const DEFAULT_EXPLORER_PORT = 8787;

/** Local only unless the operator says otherwise. @default "127.0.0.1" */
export const DEFAULT_EXPLORER_HOST = "127.0.0.1";

/**
 * Where CID links point: the CID is appended. Only a link — the explorer itself never fetches
 * through it (it verifies through its own IPFS peer).
 * @default "https://ipfs.io/ipfs/"
 */
export const DEFAULT_IPFS_GATEWAY = "https://ipfs.io/ipfs/";

/** Records, replayed models and the explorer's IPFS blocks. @default ~/.protolearn/explorer */
export const DEFAULT_EXPLORER_CACHE_DIR = join(DEFAULT_HOME, "explorer");

/** A request re-reads the chain when the last sync is older than this. @default 1000 */
export const DEFAULT_REFRESH_MS = 1_000;

/** The explorer syncs in the background this often. @default 5000 */
export const DEFAULT_POLL_MS = 5_000;

/** How long a "verify" waits for an update before calling its CID unreachable. @default 15000 */
export const DEFAULT_EXPLORER_VERIFY_TIMEOUT_MS = 15_000;

/** Largest request body the API reads (a verify request is ~100 bytes). */
export const MAX_REQUEST_BYTES = 4_096;
