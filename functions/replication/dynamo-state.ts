// The ReplicationStateStore on the replication-state table (pk/sk strings): `tag#…` items per published tag, `done#…` items per event target.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { doneKey, type AppliedTag, type EventKey, type InFlightCopy, type RecordAppliedOptions, type ReplicationStateStore, type TagKey } from './tag-state.ts';
import type { TargetOutcome } from './types.ts';

/** `done#` items outlive every retry (EventBridge retries for up to 24 h, Lambda async for 6 h). */
const DONE_TTL_SECONDS = 7 * 24 * 3600;

export interface DynamoReplicationStateOptions {
  readonly docClient: DynamoDBDocumentClient;
  /** Physical name of the replication-state table (TABLE_SPECS.replicationState). */
  readonly tableName: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Key layout (other writers of the table use other prefixes, e.g. blob progress):
 * - `pk = tag#<target>#<repository>`, `sk = <tag>`: eventTime (N), digest, correlationId; never expires;
 * - `pk = done#<correlationId>#<digest>`, `sk = <rule>#<target>`: outcome (the TargetOutcome JSON), expiresAt;
 * - `pk = inflight`, `sk = <correlationId>#<rule>#<target>`: copy (the InFlightCopy JSON), while a copy runs.
 */
export class DynamoReplicationState implements ReplicationStateStore {
  private readonly now: () => number;

  constructor(private readonly options: DynamoReplicationStateOptions) {
    this.now = options.now ?? Date.now;
  }

  private static tagPk(key: TagKey): string {
    return `tag#${key.target}#${key.repository}`;
  }

  private static donePk(event: EventKey): string {
    return `done#${event.correlationId}#${event.digest}`;
  }

  async lastApplied(key: TagKey): Promise<AppliedTag | undefined> {
    const { Item } = await this.options.docClient.send(
      new GetCommand({ TableName: this.options.tableName, Key: { pk: DynamoReplicationState.tagPk(key), sk: key.tag }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return { eventTime: Number(Item.eventTime), digest: String(Item.digest), correlationId: String(Item.correlationId ?? '') };
  }

  async recordApplied(key: TagKey, applied: AppliedTag, options: RecordAppliedOptions): Promise<AppliedTag | undefined> {
    // The condition is blocksApply's negation, evaluated by DynamoDB against the stored item.
    const condition = options.sourceConfirmed
      ? 'attribute_not_exists(pk) OR digest = :d OR eventTime <= :t'
      : 'attribute_not_exists(pk) OR digest = :d OR eventTime < :t';
    try {
      await this.options.docClient.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { pk: DynamoReplicationState.tagPk(key), sk: key.tag, eventTime: applied.eventTime, digest: applied.digest, correlationId: applied.correlationId },
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':d': applied.digest, ':t': applied.eventTime },
        }),
      );
      return undefined;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) && (err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      return (await this.lastApplied(key)) ?? applied;
    }
  }

  async targetsDone(event: EventKey): Promise<Map<string, TargetOutcome>> {
    const out = new Map<string, TargetOutcome>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.docClient.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': DynamoReplicationState.donePk(event) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      // dynalite has no TTL: an expired item is ignored here as DynamoDB would have deleted it.
      const nowSeconds = this.now() / 1000;
      for (const item of page.Items ?? []) {
        if (Number(item.expiresAt ?? Infinity) > nowSeconds) out.set(String(item.sk), JSON.parse(String(item.outcome)) as TargetOutcome);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async markTargetDone(event: EventKey, outcome: TargetOutcome): Promise<void> {
    await this.options.docClient.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { pk: DynamoReplicationState.donePk(event), sk: doneKey(outcome.rule, outcome.target), outcome: JSON.stringify(outcome), expiresAt: Math.floor(this.now() / 1000) + DONE_TTL_SECONDS },
      }),
    );
  }

  async copyStarted(copy: InFlightCopy): Promise<void> {
    await this.options.docClient.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { pk: INFLIGHT_PK, sk: inflightSk(copy), copy: JSON.stringify(copy), expiresAt: Math.floor(this.now() / 1000) + DONE_TTL_SECONDS },
      }),
    );
  }

  async copyEnded(copy: Pick<InFlightCopy, 'correlationId' | 'rule' | 'target'>): Promise<void> {
    await this.options.docClient.send(new DeleteCommand({ TableName: this.options.tableName, Key: { pk: INFLIGHT_PK, sk: inflightSk(copy) } }));
  }

  async copiesInFlight(): Promise<InFlightCopy[]> {
    const out: InFlightCopy[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.docClient.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': INFLIGHT_PK },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(JSON.parse(String(item.copy)) as InFlightCopy);
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

const INFLIGHT_PK = 'inflight';

function inflightSk(copy: Pick<InFlightCopy, 'correlationId' | 'rule' | 'target'>): string {
  return `${copy.correlationId}#${copy.rule}#${copy.target}`;
}
