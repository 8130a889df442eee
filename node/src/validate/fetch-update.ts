import type { Hex } from "viem";

import {
  CodecError,
  contentHash as hashOf,
  decodeUpdate,
  type DecodeExpectation,
  type DecodedUpdate,
} from "../codec/index.js";
import type { BlobStore } from "../storage/blob-store.js";
import { StorageError, type StorageErrorCode } from "../storage/storage-error.js";
import { bytes32Hex } from "./bytes32.js";

/** Why a revealed update could not be used; each one scores 0. */
export type FetchFailureReason = "unreachable" | "oversize" | "hash-mismatch" | "malformed";

/** Inputs of {@link fetchUpdate}. */
export interface FetchUpdateParameters {
  store: BlobStore;
  /** The CID string from the reveal; a string that is not a CID makes the update `malformed`. */
  cid: string;
  /** The content hash from the reveal: keccak256 of the bytes the trainer committed to. */
  contentHash: Hex;
  /** Give up on the fetch after this many milliseconds (`unreachable`). */
  timeoutMs: number;
  /** The run's size cap; larger blobs are refused before they are downloaded (`oversize`). */
  maxBytes: number;
  /** The run's model id, the model's shapes, the round and the run's codec settings. */
  expected: Omit<DecodeExpectation, "maxBytes">;
  /** Cancels the fetch; cancelling throws (it is not the peer's fault). */
  signal?: AbortSignal;
}

/** A usable update, or why not. */
export type FetchUpdateResult =
  | { ok: true; update: DecodedUpdate; bytes: Uint8Array }
  | { ok: false; reason: FetchFailureReason; detail: string };

/**
 * What each storage failure says about the peer's update; `undefined` means the failure is this
 * validator's own (its store is down, stopped, misconfigured, or the caller cancelled), which
 * must not be blamed on the trainer: those are rethrown.
 */
const STORAGE_REASONS: Record<StorageErrorCode, FetchFailureReason | undefined> = {
  STORAGE_TIMEOUT: "unreachable",
  STORAGE_TOO_LARGE: "oversize",
  STORAGE_BAD_CID: "malformed",
  STORAGE_NOT_A_FILE: "malformed",
  STORAGE_FETCH_FAILED: "malformed",
  STORAGE_ABORTED: undefined,
  STORAGE_BAD_OPTIONS: undefined,
  STORAGE_NOT_STARTED: undefined,
  STORAGE_UNREACHABLE: undefined,
  STORAGE_DIAL_FAILED: undefined,
  STORAGE_PUT_FAILED: undefined,
  STORAGE_CID_MISMATCH: undefined,
};

/**
 * Steps 1–2 of verification (docs/validation.md): fetch the revealed CID within `timeoutMs`
 * and `maxBytes`, check keccak256(bytes) against the revealed content hash, decode under the
 * run's rules. Every fault of the peer's content becomes `{ ok: false, reason, detail }`; only
 * the validator's own faults throw (a store that is not running or not answering, bad options,
 * cancellation), so a broken validator never scores honest updates 0.
 *
 * @example
 * const fetched = await fetchUpdate({ store, cid, contentHash, timeoutMs: 30_000, maxBytes, expected: { modelId, shapes, round } });
 * if (fetched.ok) scoreUpdate({ ..., delta: toDense(fetched.update) });
 */
export async function fetchUpdate(input: FetchUpdateParameters): Promise<FetchUpdateResult> {
  const { store, cid, timeoutMs, maxBytes, expected, signal } = input;
  const committed = bytes32Hex(input.contentHash, "the content hash");
  let bytes: Uint8Array;
  try {
    bytes = await store.get(cid, { timeoutMs, maxBytes, ...(signal ? { signal } : {}) });
  } catch (error) {
    const reason = error instanceof StorageError ? STORAGE_REASONS[error.code] : undefined;
    if (reason === undefined) throw error;
    return {
      ok: false,
      reason,
      detail: `${(error as StorageError).code}: ${(error as StorageError).message}`,
    };
  }
  const actual = hashOf(bytes);
  if (actual !== committed) {
    return {
      ok: false,
      reason: "hash-mismatch",
      detail: `the ${bytes.length} bytes behind ${cid} hash to ${actual}, the reveal committed ${committed}`,
    };
  }
  try {
    return { ok: true, bytes, update: decodeUpdate(bytes, { ...expected, maxBytes }) };
  } catch (error) {
    if (!(error instanceof CodecError) || error.code === "CODEC_BAD_OPTIONS") throw error;
    return {
      ok: false,
      reason: error.code === "CODEC_TOO_LARGE" ? "oversize" : "malformed",
      detail: `${error.code}: ${error.message}`,
    };
  }
}
