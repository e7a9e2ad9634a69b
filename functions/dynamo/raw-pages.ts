// Paginated Scan and Query through the raw client: each page's body JSON.parsed once, its Items left as wire attribute values (raw-items.ts converts them).
import type { RawDynamoClient } from './raw-request.ts';
import type { WireItem } from './raw-items.ts';

/** One page as DynamoDB answers Scan and Query (the members the readers use). */
export interface WirePage {
  readonly Items?: WireItem[];
  readonly LastEvaluatedKey?: WireItem;
  readonly Count?: number;
  readonly ScannedCount?: number;
}

/**
 * Every page of a Scan or Query, the next request sent before the current page is handed over, so
 * the download of page n+1 overlaps the caller's work on page n. `input` is the request as
 * DynamoDB's JSON protocol has it (attribute values in wire form, e.g. `{ ':pk': { S: 'a' } }`);
 * `ExclusiveStartKey` is set from each page's `LastEvaluatedKey`.
 *
 * @example
 * for await (const page of rawPages(raw, 'Scan', { TableName: 'audit', Segment: 0, TotalSegments: 4, ConsistentRead: true }))
 *   for (const item of page.Items ?? []) use(fromWireItem(item));
 */
export async function* rawPages(raw: RawDynamoClient, operation: 'Scan' | 'Query', input: Readonly<Record<string, unknown>>): AsyncGenerator<WirePage> {
  const fetchPage = async (startKey: WireItem | undefined): Promise<WirePage> =>
    JSON.parse(await raw.call(operation, startKey ? { ...input, ExclusiveStartKey: startKey } : input)) as WirePage;
  let next: Promise<WirePage> | undefined = fetchPage(input.ExclusiveStartKey as WireItem | undefined);
  while (next) {
    const page: WirePage = await next;
    next = page.LastEvaluatedKey ? fetchPage(page.LastEvaluatedKey) : undefined;
    // A rejected read-ahead that the caller never awaits (it stopped early) must not crash the process.
    next?.catch(() => undefined);
    yield page;
  }
}
