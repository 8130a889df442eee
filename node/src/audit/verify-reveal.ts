import type { Hex } from "viem";
import { contentHash } from "../codec/index.js";
import type { DecodeExpectation } from "../codec/index.js";
import type { BlobStore } from "../storage/blob-store.js";
import { StorageError } from "../storage/storage-error.js";
import { fetchUpdate, type FetchFailureReason } from "../validate/index.js";

/** What re-fetching a revealed update by its CID showed. */
export type VerifyStatus = "ok" | FetchFailureReason;

export interface VerifyResult {
  status: VerifyStatus;
  /** One line: the size and hash that matched, or what went wrong. */
  detail: string;
  /** Size of the fetched blob, when it could be fetched. */
  bytes: number | null;
  /** keccak256 of the fetched bytes, when they could be fetched. */
  actualHash: Hex | null;
  /** `hash+decode` when the update was also decoded under the run's rules, else `hash`. */
  checked: "hash+decode" | "hash";
}

/** Inputs of {@link verifyReveal}. */
export interface VerifyRevealParameters {
  store: BlobStore;
  cid: string;
  /** The content hash the reveal put on chain. */
  contentHash: Hex;
  timeoutMs: number;
  maxBytes: number;
  /** The run's model and codec rules; without them only the hash is checked. */
  expected?: Omit<DecodeExpectation, "maxBytes">;
  signal?: AbortSignal;
}

const HASH_ONLY_REASONS: Partial<Record<StorageError["code"], FetchFailureReason>> = {
  STORAGE_TIMEOUT: "unreachable",
  STORAGE_TOO_LARGE: "oversize",
  STORAGE_BAD_CID: "malformed",
  STORAGE_NOT_A_FILE: "malformed",
  STORAGE_FETCH_FAILED: "malformed",
};

/**
 * Fetches a revealed update by its CID (bounded time and size) and checks keccak256 of the bytes
 * against the content hash on chain — the check anyone can make without trusting the trainer,
 * the validators or this tool. With `expected`, it also decodes the update under the run's rules
 * (the validators' step 2). The peer's faults come back as a status; only this auditor's own
 * faults (its store not running, cancellation) throw.
 *
 * @example
 * const result = await verifyReveal({ store, cid, contentHash, timeoutMs: 30_000, maxBytes });
 * if (result.status !== "ok") console.log(result.detail);
 */
export async function verifyReveal(input: VerifyRevealParameters): Promise<VerifyResult> {
  const { store, cid, timeoutMs, maxBytes, signal } = input;
  const committed = input.contentHash.toLowerCase() as Hex;
  if (input.expected !== undefined) {
    const fetched = await fetchUpdate({
      store,
      cid,
      contentHash: committed,
      timeoutMs,
      maxBytes,
      expected: input.expected,
      ...(signal ? { signal } : {}),
    });
    if (fetched.ok) {
      return {
        status: "ok",
        detail: `${fetched.bytes.length} bytes hash to ${committed} and decode under the run's rules`,
        bytes: fetched.bytes.length,
        actualHash: committed,
        checked: "hash+decode",
      };
    }
    const actual = /hash to (0x[0-9a-f]{64})/.exec(fetched.detail)?.[1] as Hex | undefined;
    const size = /the (\d+) bytes/.exec(fetched.detail)?.[1];
    return {
      status: fetched.reason,
      detail: fetched.detail,
      bytes: size === undefined ? null : Number(size),
      actualHash: actual ?? null,
      checked: "hash+decode",
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = await store.get(cid, { timeoutMs, maxBytes, ...(signal ? { signal } : {}) });
  } catch (error) {
    const reason = error instanceof StorageError ? HASH_ONLY_REASONS[error.code] : undefined;
    if (reason === undefined) throw error;
    return {
      status: reason,
      detail: `${(error as StorageError).code}: ${(error as StorageError).message}`,
      bytes: null,
      actualHash: null,
      checked: "hash",
    };
  }
  const actual = contentHash(bytes);
  if (actual !== committed) {
    return {
      status: "hash-mismatch",
      detail: `the ${bytes.length} bytes behind ${cid} hash to ${actual}, the reveal committed ${committed}`,
      bytes: bytes.length,
      actualHash: actual,
      checked: "hash",
    };
  }
  return {
    status: "ok",
    detail: `${bytes.length} bytes hash to ${committed}`,
    bytes: bytes.length,
    actualHash: actual,
    checked: "hash",
  };
}
