import type { Hex } from "viem";

import {
  CodecError,
  contentHash as hashOf,
  decodeUpdate,
  type CodecErrorCode,
  type DecodeExpectation,
  type DecodedUpdate,
} from "../codec/index.js";
import { ProtolearnError } from "../errors.js";
import type { BlobStore } from "../storage/blob-store.js";
import { StorageError, type StorageErrorCode } from "../storage/storage-error.js";
import { bytes32Hex } from "./bytes32.js";

/** Why a revealed update could not be used; each one scores 0. */
export type FetchFailureReason = "unreachable" | "oversize" | "hash-mismatch" | "malformed";

/** The stable code of each {@link FetchFailureReason}. */
export type FetchFailureCode =
  "FETCH_UNREACHABLE" | "FETCH_OVERSIZE" | "FETCH_HASH_MISMATCH" | "FETCH_MALFORMED";

const FAILURE_CODES: Record<FetchFailureReason, FetchFailureCode> = {
  unreachable: "FETCH_UNREACHABLE",
  oversize: "FETCH_OVERSIZE",
  "hash-mismatch": "FETCH_HASH_MISMATCH",
  malformed: "FETCH_MALFORMED",
};

/**
 * A revealed update that is the peer's fault: not served in time, too large, not the bytes the
 * reveal committed to, or not a valid update under the run's rules. {@link fetchUpdate} returns
 * it (`ok: false`) rather than throwing it, since it is a verdict on the peer, not an error of
 * the caller; it is still a `ProtolearnError`, so a caller for whom it is fatal can throw it.
 *
 * Branch on `reason` (or `code`) and read the data fields; `detail` and `message` are for people.
 */
export class FetchFailure extends ProtolearnError {
  override name = "FetchFailure";
  declare readonly code: FetchFailureCode;
  readonly ok = false;
  /** Which rule the update broke. */
  readonly reason: FetchFailureReason;
  /** One line for logs and reports: the underlying code (if any) and what was seen. */
  readonly detail: string;
  /** The storage or codec error code behind `unreachable`, `oversize` and `malformed`, if any. */
  readonly causeCode: StorageErrorCode | CodecErrorCode | undefined;
  /** The CID the reveal named. */
  readonly cid: string;
  /** The content hash the reveal committed to (lowercase). */
  readonly committedHash: Hex;
  /** Size of the fetched blob; `null` when nothing was fetched. */
  readonly size: number | null;
  /** keccak256 of the fetched blob; `null` when nothing was fetched. */
  readonly actualHash: Hex | null;

  constructor(fields: {
    reason: FetchFailureReason;
    detail: string;
    cid: string;
    committedHash: Hex;
    size: number | null;
    actualHash: Hex | null;
    cause?: StorageError | CodecError;
  }) {
    super(`the update at ${fields.cid} is ${fields.reason}: ${fields.detail}`, {
      code: FAILURE_CODES[fields.reason],
      fix: "nothing to fix on this node: the trainer's update scores 0",
      ...(fields.cause === undefined ? {} : { cause: fields.cause }),
    });
    this.reason = fields.reason;
    this.detail = fields.detail;
    this.causeCode = fields.cause?.code;
    this.cid = fields.cid;
    this.committedHash = fields.committedHash;
    this.size = fields.size;
    this.actualHash = fields.actualHash;
  }
}

/** Inputs of {@link fetchCommittedBlob}. */
export interface FetchCommittedBlobParameters {
  store: BlobStore;
  /** The CID string from the reveal; a string that is not a CID makes the update `malformed`. */
  cid: string;
  /** The content hash from the reveal: keccak256 of the bytes the trainer committed to. */
  contentHash: Hex;
  /** Give up on the fetch after this many milliseconds (`unreachable`). */
  timeoutMs: number;
  /** The run's size cap; larger blobs are refused before they are downloaded (`oversize`). */
  maxBytes: number;
  /** Cancels the fetch; cancelling throws (it is not the peer's fault). */
  signal?: AbortSignal;
}

/** Inputs of {@link fetchUpdate}. */
export interface FetchUpdateParameters extends FetchCommittedBlobParameters {
  /** The run's model id, the model's shapes, the round and the run's codec settings. */
  expected: Omit<DecodeExpectation, "maxBytes">;
}

/** The committed bytes, or why not. */
export type FetchCommittedBlobResult = { ok: true; bytes: Uint8Array } | FetchFailure;

/** A usable update, or why not. */
export type FetchUpdateResult =
  { ok: true; update: DecodedUpdate; bytes: Uint8Array } | FetchFailure;

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
 * Step 1 of verification (docs/validation.md): fetch the revealed CID within `timeoutMs` and
 * `maxBytes` and check keccak256(bytes) against the revealed content hash. The peer's faults
 * come back as a {@link FetchFailure}; the caller's own faults throw (see {@link fetchUpdate}).
 * An audit of a model this build does not know stops here; {@link fetchUpdate} also decodes.
 */
export async function fetchCommittedBlob(
  input: FetchCommittedBlobParameters,
): Promise<FetchCommittedBlobResult> {
  const { store, cid, timeoutMs, maxBytes, signal } = input;
  const committedHash = bytes32Hex(input.contentHash, "the content hash");
  let bytes: Uint8Array;
  try {
    bytes = await store.get(cid, { timeoutMs, maxBytes, ...(signal ? { signal } : {}) });
  } catch (error) {
    const reason = error instanceof StorageError ? STORAGE_REASONS[error.code] : undefined;
    if (reason === undefined) throw error;
    const cause = error as StorageError;
    return new FetchFailure({
      reason,
      detail: `${cause.code}: ${cause.message}`,
      cid,
      committedHash,
      size: null,
      actualHash: null,
      cause,
    });
  }
  const actualHash = hashOf(bytes);
  if (actualHash !== committedHash) {
    return new FetchFailure({
      reason: "hash-mismatch",
      detail: `the ${bytes.length} bytes behind ${cid} hash to ${actualHash}, the reveal committed ${committedHash}`,
      cid,
      committedHash,
      size: bytes.length,
      actualHash,
    });
  }
  return { ok: true, bytes };
}

/**
 * Steps 1–2 of verification (docs/validation.md): fetch the revealed CID within `timeoutMs`
 * and `maxBytes`, check keccak256(bytes) against the revealed content hash, decode under the
 * run's rules. Every fault of the peer's content becomes a {@link FetchFailure} (`ok: false`,
 * with `reason`, the size and hash seen); only the validator's own faults throw (a store that is
 * not running or not answering, bad options, cancellation), so a broken validator never scores
 * honest updates 0.
 *
 * @example
 * const fetched = await fetchUpdate({ store, cid, contentHash, timeoutMs: 30_000, maxBytes, expected: { modelId, shapes, round } });
 * if (fetched.ok) scoreUpdate({ ..., delta: toDense(fetched.update) });
 * else if (fetched.reason === "hash-mismatch") console.log(fetched.actualHash);
 */
export async function fetchUpdate(input: FetchUpdateParameters): Promise<FetchUpdateResult> {
  const fetched = await fetchCommittedBlob(input);
  if (!fetched.ok) return fetched;
  const { bytes } = fetched;
  try {
    return {
      ok: true,
      bytes,
      update: decodeUpdate(bytes, { ...input.expected, maxBytes: input.maxBytes }),
    };
  } catch (error) {
    if (!(error instanceof CodecError) || error.code === "CODEC_BAD_OPTIONS") throw error;
    const committedHash = bytes32Hex(input.contentHash, "the content hash");
    return new FetchFailure({
      reason: error.code === "CODEC_TOO_LARGE" ? "oversize" : "malformed",
      detail: `${error.code}: ${error.message}`,
      cid: input.cid,
      committedHash,
      size: bytes.length,
      actualHash: committedHash,
      cause: error,
    });
  }
}
