// The BlobProgressStore on the replication-state table: one `blobs#…` item per blob verified at a target, batched, expiring by TTL.
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BlobProgressKey, BlobProgressStore } from './blob-progress.ts';

/** Long enough for every retry path (Lambda async 6 h, EventBridge 24 h, hourly reconcile), short enough to stay a hint. */
export const BLOB_PROGRESS_TTL_SECONDS = 24 * 3600;
/** DynamoDB's BatchWriteItem limit. */
const BATCH = 25;
/** Rounds of UnprocessedItems re-sent before giving up (throttling). */
const MAX_ROUNDS = 5;

export interface DynamoBlobProgressOptions {
  readonly docClient: DynamoDBDocumentClient;
  /** Physical name of the replication-state table (TABLE_SPECS.replicationState). */
  readonly tableName: string;
  /** @default BLOB_PROGRESS_TTL_SECONDS */
  readonly ttlSeconds?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Pause between UnprocessedItems rounds. @default 50 ms × round */
  readonly backoffMs?: (round: number) => number;
}

/**
 * Key layout: `pk = blobs#<target>#<repository>#<image digest>`, `sk = <blob digest>`, `expiresAt` (N,
 * epoch seconds). One Query reads an image's progress; dynalite has no TTL, so expired items are
 * ignored on read as DynamoDB would have deleted them.
 */
export class DynamoBlobProgress implements BlobProgressStore {
  private readonly now: () => number;
  private readonly ttlSeconds: number;

  constructor(private readonly options: DynamoBlobProgressOptions) {
    this.now = options.now ?? Date.now;
    this.ttlSeconds = options.ttlSeconds ?? BLOB_PROGRESS_TTL_SECONDS;
  }

  static pk(key: BlobProgressKey): string {
    return `blobs#${key.target}#${key.repository}#${key.digest}`;
  }

  async verifiedBlobs(key: BlobProgressKey, only?: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    const nowSeconds = this.now() / 1000;
    const wanted = only === undefined ? undefined : new Set(only);
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.docClient.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: wanted?.size === 1 ? 'pk = :pk AND sk = :sk' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': DynamoBlobProgress.pk(key), ...(wanted?.size === 1 ? { ':sk': [...wanted][0] } : {}) },
          ProjectionExpression: 'sk, expiresAt',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const digest = String(item.sk);
        if (Number(item.expiresAt ?? Infinity) > nowSeconds && (wanted === undefined || wanted.has(digest))) out.add(digest);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async recordVerified(key: BlobProgressKey, digests: readonly string[]): Promise<void> {
    const pk = DynamoBlobProgress.pk(key);
    const expiresAt = Math.floor(this.now() / 1000) + this.ttlSeconds;
    await this.batchWrite([...new Set(digests)].map((sk) => ({ PutRequest: { Item: { pk, sk, expiresAt } } })));
  }

  async forget(key: BlobProgressKey): Promise<void> {
    const pk = DynamoBlobProgress.pk(key);
    const digests = await this.verifiedBlobs(key);
    await this.batchWrite([...digests].map((sk) => ({ DeleteRequest: { Key: { pk, sk } } })));
  }

  private async batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    const table = this.options.tableName;
    for (let i = 0; i < requests.length; i += BATCH) {
      let batch = requests.slice(i, i + BATCH);
      for (let round = 0; batch.length > 0; round++) {
        if (round >= MAX_ROUNDS) throw new Error(`${batch.length} blob progress write(s) to ${table} stayed unprocessed after ${MAX_ROUNDS} rounds (throttled)`);
        if (round > 0) await new Promise((r) => setTimeout(r, this.options.backoffMs?.(round) ?? 50 * round));
        const res = await this.options.docClient.send(new BatchWriteCommand({ RequestItems: { [table]: batch as never } }));
        batch = (res.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      }
    }
  }
}
