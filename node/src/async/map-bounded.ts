/**
 * Runs `work` over `items` with at most `limit` calls in flight; results come back in input
 * order. Used wherever a node fetches many peers' updates at once (validation, audit), so a
 * round of 64 updates does not open 64 bitswap sessions together.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
