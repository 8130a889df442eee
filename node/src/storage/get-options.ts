import { z } from "zod";

import type { GetOptions } from "./blob-store.js";
import { StorageError } from "./storage-error.js";

const getOptionsSchema = z.object({
  timeoutMs: z.number().int().positive(),
  maxBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

/** Checks the limits of a `get` call; StorageError STORAGE_BAD_OPTIONS if they are unusable. */
export function checkGetOptions(options: GetOptions): void {
  const parsed = getOptionsSchema.safeParse({
    timeoutMs: options.timeoutMs,
    maxBytes: options.maxBytes,
  });
  if (!parsed.success) {
    throw new StorageError(
      `get options are invalid: ${parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; ")}`,
      {
        code: "STORAGE_BAD_OPTIONS",
        fix: "pass timeoutMs and maxBytes as positive integers (e.g. the run's fetch timeout and update size cap)",
      },
    );
  }
}

/**
 * Runs `fetch` under a deadline of `options.timeoutMs` and the caller's signal, and turns an
 * abort into STORAGE_TIMEOUT or STORAGE_ABORTED. Other failures become `onFailure(error)`;
 * StorageErrors pass through.
 */
export async function withDeadline<T>(
  cid: string,
  options: GetOptions,
  fetch: (signal: AbortSignal) => Promise<T>,
  onFailure: (error: unknown) => StorageError,
): Promise<T> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    return await fetch(signal);
  } catch (error) {
    if (error instanceof StorageError) throw error;
    if (options.signal?.aborted) {
      throw new StorageError(`fetching ${cid} was cancelled`, {
        code: "STORAGE_ABORTED",
        fix: "nothing to fix: the caller cancelled the fetch",
        cause: error,
      });
    }
    if (deadline.aborted) {
      throw new StorageError(`no peer delivered ${cid} within ${options.timeoutMs} ms`, {
        code: "STORAGE_TIMEOUT",
        fix: "check that a peer holding the blob is connected (dial the uploader's multiaddr) and reachable, or raise the fetch timeout; an update nobody can serve scores as invalid",
        cause: error,
      });
    }
    throw onFailure(error);
  }
}
