// The audit table's chains read by a parallel Scan through the lean client (functions/dynamo/raw-client.ts): pages read as text by the page scanner, items turned straight into chain entries.
import { isAscii } from 'node:buffer';
import type { RawDynamoClient, RawPage } from '../dynamo/raw-client.ts';
import type { WireItem } from '../dynamo/attribute-values.ts';
import { raceSegments } from '../dynamo/segmented-scan.ts';
import { AUDIT_KEYS } from '../dynamo/tables.ts';
import { HEADS_KEY, PARTITION_REGISTRY_KEY, entryFromWire, type ChainEntry } from './chain.ts';
import { AuditPageScanner } from './page-scanner.ts';
import type { RecordFields } from './types.ts';

export interface ScanSegmentsOptions {
  readonly raw: RawDynamoClient;
  readonly tableName: string;
  /** The segments to read, of `totalSegments` (DynamoDB's parallel scan: a partition, so a whole chain, is in one segment). */
  readonly segments: readonly number[];
  readonly totalSegments: number;
  /** DynamoDB `Limit` per page (tests); default DynamoDB's 1 MB pages. */
  readonly pageSize?: number;
  /** The items whose `record` the reader will read, by their fields (AuditPageScanner's `keep`): parsed from their canonical JSON. */
  readonly keep?: (fields: RecordFields | undefined) => boolean;
}

/** One page of one segment: its chain entries (no head or partition-list item), in the segment's order. */
export interface SegmentPage {
  readonly segment: number;
  readonly entries: ChainEntry[];
  /** True on the segment's last page. */
  readonly last: boolean;
}

/**
 * Every chain item of the given segments, strongly consistent, each segment one request ahead (the
 * next page downloads while this one is checked); pages of different segments interleave. No
 * filter: an item whose `seq` was removed by hand must still reach the verifier.
 *
 * @example
 * for await (const { entries } of scanSegments({ raw, tableName, segments: [0, 1, 2, 3], totalSegments: 4 })) check(entries);
 */
export async function* scanSegments(options: ScanSegmentsOptions): AsyncIterable<SegmentPage> {
  const { raw, tableName, totalSegments } = options;
  const scanner = new AuditPageScanner(options.keep ? { keep: options.keep } : {});
  /** A page's entries: scanned from the text, or (a page the scanner does not read the ordinary way) JSON.parsed and converted. */
  const request = async (segment: number, startKey: WireItem | undefined): Promise<{ LastEvaluatedKey: WireItem | undefined; entries: ChainEntry[] }> => {
    const body = await raw.callBody('Scan', {
      TableName: tableName,
      ConsistentRead: true,
      ...(totalSegments > 1 ? { Segment: segment, TotalSegments: totalSegments } : {}),
      ...(options.pageSize ? { Limit: options.pageSize } : {}),
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    });
    // Read as latin1 (a byte a character) even when not all ASCII: the scanner decodes the few non-ASCII strings from the bytes.
    const text = body.toString('latin1');
    const entries: ChainEntry[] = [];
    const scanned = scanner.scan(text, body);
    if (scanned) {
      for (const item of scanned.items) if (item.pk !== PARTITION_REGISTRY_KEY && item.pk !== HEADS_KEY) entries.push(item.entry());
      return { LastEvaluatedKey: scanned.lastEvaluatedKey, entries };
    }
    const page = JSON.parse(isAscii(body) ? text : body.toString('utf8')) as RawPage;
    for (const item of page.Items ?? []) {
      const pk = item[AUDIT_KEYS.partitionKey]?.S;
      if (pk !== PARTITION_REGISTRY_KEY && pk !== HEADS_KEY) entries.push(entryFromWire(item));
    }
    return { LastEvaluatedKey: page.LastEvaluatedKey, entries };
  };
  for await (const { segment, page, last } of raceSegments(options.segments, request)) yield { segment, entries: page.entries, last };
}
