import type { Hex } from "viem";
import type { DecodeExpectation } from "../codec/index.js";
import type { BlobStore } from "../storage/blob-store.js";
import { fetchCommittedBlob, fetchUpdate, type FetchFailureReason } from "../validate/index.js";

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
  const { expected, ...fetch } = input;
  const checked = expected === undefined ? "hash" : "hash+decode";
  const fetched =
    expected === undefined
      ? await fetchCommittedBlob(fetch)
      : await fetchUpdate({ ...fetch, expected });
  if (!fetched.ok) {
    return {
      status: fetched.reason,
      detail: fetched.detail,
      bytes: fetched.size,
      actualHash: fetched.actualHash,
      checked,
    };
  }
  const committed = input.contentHash.toLowerCase() as Hex;
  return {
    status: "ok",
    detail: `${fetched.bytes.length} bytes hash to ${committed}${expected === undefined ? "" : " and decode under the run's rules"}`,
    bytes: fetched.bytes.length,
    actualHash: committed,
    checked,
  };
}
