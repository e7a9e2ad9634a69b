// Runs an async function over items with at most `limit` calls in flight, keeping the input order.

/**
 * Like `Promise.all(items.map(fn))`, bounded: at most `limit` calls run at once. Rejects with the
 * first error (calls already started finish on their own; no new ones start).
 *
 * @example
 * const heads = await mapLimit(tags, 8, (t) => registry.manifestHead(repo, t));
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
