// AuditStore on DynamoDB (or dynalite): conditional PutItem appends, strongly consistent chain reads, GSI queries.
import { PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { fromWireItem, type WireAttributeValue } from '../dynamo/attribute-values.ts';
import { isAwsError } from '../dynamo/client.ts';
import type { RawDynamoClient } from '../dynamo/raw-client.ts';
import { raceSegments } from '../dynamo/segmented-scan.ts';
import { AUDIT_INDEXES, AUDIT_KEYS } from '../dynamo/tables.ts';
import { HEADS_KEY, PARTITION_REGISTRY_KEY, fromItem, toItem, type ChainEntry } from './chain.ts';
import { scanSegments } from './lean-scan.ts';
import type { AuditStore, StoreQuery } from './store.ts';
import type { AuditHead, StoredAuditRecord } from './types.ts';

export interface DynamoAuditStoreOptions {
  readonly docClient: DynamoDBDocumentClient;
  /** Physical name of the table built from `AUDIT_TABLE`. */
  readonly tableName: string;
  /** Items per request (DynamoDB `Limit`) for every paginated read; default: DynamoDB's 1 MB pages. Small values exercise pagination in tests. */
  readonly pageSize?: number;
  /**
   * The lean client for bulk reads (functions/dynamo/raw-client.ts): pages parsed with JSON.parse and
   * converted by attribute-values.ts instead of the SDK's deserialiser and `unmarshall`, for
   * `queryFields` and for `scanChains` (the whole-table read of verify and compliance). Without one,
   * both send the same requests through `docClient`.
   */
  readonly raw?: RawDynamoClient;
}

const INDEX_NAME = {
  repository: AUDIT_INDEXES.byRepositoryTime,
  actor: AUDIT_INDEXES.byActorTime,
  action: AUDIT_INDEXES.byActionTime,
} as const;

type Item = Record<string, unknown>;

/**
 * The DynamoDB implementation. dynalite has no transactions, so every append is one conditional
 * PutItem on a fresh (partition, seq) key: concurrent appenders cannot both win a sequence number.
 *
 * @example
 * const { docClient } = createDynamoClients({ endpoint });
 * const log = new AuditLog(new DynamoAuditStore({ docClient, tableName: 'regman-audit' }));
 */
export class DynamoAuditStore implements AuditStore {
  private readonly docClient: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly pageSize: number | undefined;
  private readonly raw: RawDynamoClient | undefined;

  constructor(options: DynamoAuditStoreOptions) {
    this.docClient = options.docClient;
    this.tableName = options.tableName;
    this.pageSize = options.pageSize;
    this.raw = options.raw;
  }

  async latest(partition: string): Promise<StoredAuditRecord | undefined> {
    const out = await this.docClient.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    return item ? fromItem(item).record : undefined;
  }

  async putIfAbsent(record: StoredAuditRecord): Promise<boolean> {
    try {
      await this.docClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
        }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }

  async registerPartition(partition: string): Promise<void> {
    try {
      await this.docClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [AUDIT_KEYS.partitionKey]: PARTITION_REGISTRY_KEY, [AUDIT_KEYS.sortKey]: partition, registeredAt: new Date().toISOString() },
          // Keeps the first registration time; a second registration is a no-op.
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
        }),
      );
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
    }
  }

  async advanceHead(head: AuditHead): Promise<void> {
    try {
      await this.docClient.send(
        // A conditional PutItem, not UpdateItem: the functions' roles may put and query the audit table, never update it.
        new PutCommand({
          TableName: this.tableName,
          // headSeq, not seq: the time scan filters chain records by `attribute_exists(seq)`.
          Item: { [AUDIT_KEYS.partitionKey]: HEADS_KEY, [AUDIT_KEYS.sortKey]: head.partition, headSeq: head.seq, headHash: head.hash, headTime: head.time },
          ConditionExpression: 'attribute_not_exists(headSeq) OR headSeq < :seq',
          ExpressionAttributeValues: { ':seq': head.seq },
        }),
      );
    } catch (err) {
      // A later append already moved the head further: nothing to do.
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
    }
  }

  async *listHeads(): AsyncIterable<AuditHead> {
    for await (const item of this.queryPages({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
      ExpressionAttributeValues: { ':pk': HEADS_KEY },
      ConsistentRead: true,
    })) {
      yield { partition: item[AUDIT_KEYS.sortKey] as string, seq: Number(item.headSeq), hash: String(item.headHash), time: String(item.headTime) };
    }
  }

  async *listPartitions(): AsyncIterable<string> {
    for await (const item of this.queryPages({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
      ExpressionAttributeValues: { ':pk': PARTITION_REGISTRY_KEY },
      ConsistentRead: true,
    })) {
      yield item[AUDIT_KEYS.sortKey] as string;
    }
  }

  async *discoverPartitions(): AsyncIterable<string> {
    const seen = new Set<string>();
    let startKey: Item | undefined;
    do {
      const page = await this.docClient.send(
        new ScanCommand({
          TableName: this.tableName,
          ProjectionExpression: '#pk',
          ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
          ConsistentRead: true,
          ...(this.pageSize ? { Limit: this.pageSize } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const pk = item[AUDIT_KEYS.partitionKey] as string;
        if (pk === PARTITION_REGISTRY_KEY || pk === HEADS_KEY || seen.has(pk)) continue;
        seen.add(pk);
        yield pk;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async *readPartition(partition: string): AsyncIterable<ChainEntry> {
    for await (const item of this.queryPages({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
      ExpressionAttributeValues: { ':pk': partition },
      ConsistentRead: true,
    })) {
      yield fromItem(item);
    }
  }

  /**
   * One consistent Scan of the whole table split into `segments` (DynamoDB's parallel scan), the
   * segments' requests in flight together: a few hundred 1 MB pages instead of one Query per chain.
   * No filter: an item whose `seq` was removed by hand must still reach the verifier.
   */
  async *scanChains(segments: number): AsyncIterable<readonly ChainEntry[]> {
    const total = Math.max(1, Math.floor(segments));
    const all = Array.from({ length: total }, (_, i) => i);
    if (this.raw) {
      for await (const page of scanSegments({ raw: this.raw, tableName: this.tableName, segments: all, totalSegments: total, ...(this.pageSize ? { pageSize: this.pageSize } : {}) })) yield page.entries;
      return;
    }
    // The same requests through the SDK client, each segment one request ahead: the next page downloads while this one is hashed.
    const request = (segment: number, startKey: Item | undefined) =>
      this.docClient.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          ...(total > 1 ? { Segment: segment, TotalSegments: total } : {}),
          ...(this.pageSize ? { Limit: this.pageSize } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
    for await (const { page } of raceSegments(all, request)) {
      const entries: ChainEntry[] = [];
      for (const item of page.Items ?? []) {
        const pk = item[AUDIT_KEYS.partitionKey];
        if (pk !== PARTITION_REGISTRY_KEY && pk !== HEADS_KEY) entries.push(fromItem(item));
      }
      yield entries;
    }
  }

  async *query(query: StoreQuery): AsyncIterable<StoredAuditRecord> {
    if (query.index === 'time') {
      yield* this.scanByTime(query);
      return;
    }
    for await (const item of this.queryPages(this.indexQuery(query))) yield fromItem(item).record;
  }

  /**
   * An index query (not `time`) returning only `fields` of each record, a page at a time: the same
   * key condition and filters as `query` plus a ProjectionExpression, so DynamoDB sends a few
   * attributes instead of the whole item (the index projects ALL; the read capacity is the same, the
   * bytes on the wire and the parsing are not). No chain check: the records are not whole.
   */
  async *queryFields(query: StoreQuery, fields: readonly string[]): AsyncIterable<Record<string, unknown>[]> {
    const input = this.indexQuery(query);
    const names = { ...input.ExpressionAttributeNames };
    // Every field through a name placeholder: action, bytes and source are DynamoDB reserved words.
    input.ProjectionExpression = fields.map((f, i) => ((names[`#f${i}`] = f), `#f${i}`)).join(', ');
    input.ExpressionAttributeNames = names;
    if (this.pageSize && input.Limit === undefined) input.Limit = this.pageSize;
    if (this.raw) {
      const wireValues: Record<string, WireAttributeValue> = {};
      for (const [k, v] of Object.entries(input.ExpressionAttributeValues ?? {})) wireValues[k] = { S: String(v) };
      for await (const page of this.raw.pages('Query', { ...input, ExpressionAttributeValues: wireValues })) yield page.Items.map(fromWireItem);
      return;
    }
    let startKey: Item | undefined;
    do {
      const page = await this.docClient.send(new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** The Query of an index `query`: key condition on the index key and `timeKey`, the other filters as a FilterExpression. */
  private indexQuery(query: StoreQuery): QueryCommandInput {
    const index = query.index;
    if (index === 'time') throw new RangeError('a time query has no index: scanByTime reads it');
    const names: Record<string, string> = { '#k': AUDIT_KEYS[index] };
    const values: Record<string, string> = { ':k': String(query[index]) };
    // timeKey = `<iso>#…`: `>= since` keeps records at `since`; `< until` / BETWEEN … AND until drop those at `until`.
    let keyCondition = '#k = :k';
    // DynamoDB rejects unused expression attribute names, so #t only when a bound uses it.
    if (query.since !== undefined || query.until !== undefined) names['#t'] = AUDIT_KEYS.timeKey;
    if (query.since !== undefined && query.until !== undefined) {
      keyCondition += ' AND #t BETWEEN :since AND :until';
      Object.assign(values, { ':since': query.since, ':until': query.until });
    } else if (query.since !== undefined) {
      keyCondition += ' AND #t >= :since';
      values[':since'] = query.since;
    } else if (query.until !== undefined) {
      keyCondition += ' AND #t < :until';
      values[':until'] = query.until;
    }
    const filters: string[] = [];
    for (const field of ['repository', 'actor', 'action', 'correlationId'] as const) {
      const value = query[field];
      if (field === index || value === undefined) continue;
      names[`#${field}`] = field === 'correlationId' ? 'correlationId' : AUDIT_KEYS[field];
      values[`:${field}`] = value;
      filters.push(`#${field} = :${field}`);
    }
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: INDEX_NAME[index],
      KeyConditionExpression: keyCondition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: query.order !== 'newest-first',
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
    };
    // Limit counts items read before the filter, so the caller's limit is only a page size without filters.
    const limit = this.pageSize ?? (filters.length === 0 && query.limit ? Math.min(query.limit, 1000) : undefined);
    if (limit !== undefined) input.Limit = limit;
    return input;
  }

  /**
   * Queries without repository, actor or action have no index: scan, filter by time, sort in memory.
   * With `order: 'any'` each page is yielded as it arrives (memory bounded by one 1 MB page), which is
   * how the reports read a whole period. Sorted, it is fine for the local stack and bounded tables.
   */
  private async *scanByTime(query: StoreQuery): AsyncIterable<StoredAuditRecord> {
    const names: Record<string, string> = { '#seq': 'seq' };
    const values: Record<string, unknown> = {};
    const filters = ['attribute_exists(#seq)'];
    if (query.correlationId !== undefined) {
      names['#corr'] = 'correlationId';
      values[':corr'] = query.correlationId;
      filters.push('#corr = :corr');
    }
    if (query.since !== undefined) {
      names['#time'] = 'time';
      values[':since'] = query.since;
      filters.push('#time >= :since');
    }
    if (query.until !== undefined) {
      names['#time'] = 'time';
      values[':until'] = query.until;
      filters.push('#time < :until');
    }
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.docClient.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: filters.join(' AND '),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ...(this.pageSize ? { Limit: this.pageSize } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      startKey = page.LastEvaluatedKey;
      if (query.order === 'any') for (const item of page.Items ?? []) yield fromItem(item).record;
      else items.push(...(page.Items ?? []));
    } while (startKey);
    const key = (item: Item) => String(item[AUDIT_KEYS.timeKey]);
    items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    if (query.order === 'newest-first') items.reverse();
    for (const item of items) yield fromItem(item).record;
  }

  private async *queryPages(input: QueryCommandInput): AsyncIterable<Item> {
    let startKey: Item | undefined;
    do {
      const page = await this.docClient.send(
        new QueryCommand({ ...input, ...(this.pageSize && input.Limit === undefined ? { Limit: this.pageSize } : {}), ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
      );
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
