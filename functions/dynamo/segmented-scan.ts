// DynamoDB's parallel Scan read with every segment one page ahead: the one loop behind the audit table's whole-table reads (the lean client's and the SDK's).

/** A Scan page of either client: what matters here is whether it says where the segment goes on. */
export interface ScanPageLike<K> {
  readonly LastEvaluatedKey?: K | undefined;
}

/** One page of one segment, as the request returned it. */
export interface RacedPage<P> {
  readonly segment: number;
  readonly page: P;
  /** True on the segment's last page (no `LastEvaluatedKey`). */
  readonly last: boolean;
}

/**
 * Pages of the given segments as they arrive: every segment's first request is sent at once, and a
 * segment's next request is sent as soon as its page arrives, before that page is yielded, so it
 * downloads while the caller works on this one. Pages of different segments interleave; a segment's
 * own pages come in order. A failed request rejects the iteration; a caller that stops early (or a
 * failure) leaves requests in flight, whose failures are not left unhandled.
 *
 * @example
 * for await (const { segment, page } of raceSegments([0, 1, 2, 3], (segment, startKey) => scan({ Segment: segment, TotalSegments: 4, ExclusiveStartKey: startKey }))) use(page.Items);
 */
export async function* raceSegments<K, P extends ScanPageLike<K>>(
  segments: readonly number[],
  request: (segment: number, startKey: K | undefined) => Promise<P>,
): AsyncIterable<RacedPage<P>> {
  const send = (segment: number, startKey: K | undefined) => request(segment, startKey).then((page) => ({ segment, page }));
  const inFlight = new Map<number, Promise<{ segment: number; page: P }>>();
  for (const segment of segments) inFlight.set(segment, send(segment, undefined));
  try {
    while (inFlight.size > 0) {
      const { segment, page } = await Promise.race(inFlight.values());
      inFlight.delete(segment);
      const next = page.LastEvaluatedKey;
      if (next) inFlight.set(segment, send(segment, next));
      yield { segment, page, last: !next };
    }
  } finally {
    // Promise.race subscribed to every request but the ones sent since the last race: those get a handler here.
    for (const p of inFlight.values()) p.catch(() => undefined);
  }
}
