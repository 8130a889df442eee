import { ProtolearnError } from "../errors.js";

/** Stable codes of every way storing or fetching a blob can fail. */
export type StorageErrorCode =
  | "STORAGE_BAD_OPTIONS"
  | "STORAGE_BAD_CID"
  | "STORAGE_NOT_STARTED"
  | "STORAGE_TIMEOUT"
  | "STORAGE_ABORTED"
  | "STORAGE_TOO_LARGE"
  | "STORAGE_NOT_A_FILE"
  | "STORAGE_FETCH_FAILED"
  | "STORAGE_PUT_FAILED"
  | "STORAGE_DIAL_FAILED"
  | "STORAGE_UNREACHABLE"
  | "STORAGE_CID_MISMATCH";

/** A blob could not be stored or fetched; `fix` says what the operator can do. */
export class StorageError extends ProtolearnError {
  override name = "StorageError";
  declare readonly code: StorageErrorCode;

  constructor(message: string, options: { code: StorageErrorCode; fix?: string; cause?: unknown }) {
    super(message, options);
  }
}
