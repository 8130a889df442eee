import { StorageError } from "./storage-error.js";

/**
 * Concatenates a stream of chunks, refusing as soon as the total would pass `maxBytes`: the chunk
 * that crosses the limit is dropped, not kept, so memory stays ≤ `maxBytes` plus one chunk.
 */
export async function readBounded(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  cid: string,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(cid, `more than ${maxBytes}`, maxBytes);
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The error for a blob over the caller's limit. */
export function tooLarge(cid: string, size: string, maxBytes: number): StorageError {
  return new StorageError(`blob ${cid} is ${size} bytes, over the limit of ${maxBytes}`, {
    code: "STORAGE_TOO_LARGE",
    fix: "treat the update as invalid (it exceeds the run's size cap), or raise maxBytes if this is a checkpoint you trust",
  });
}
