// Where promotions live: executions, per-environment history, quarantine, holds and pending approvals (DynamoDB; tables in functions/dynamo/tables.ts).
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PendingApproval } from '../approvals/minimal-requester.ts';
import type { HoldRecord, PromotionHistoryEntry, PromotionRecord, QuarantineRecord } from './types.ts';

export type { PendingApproval };

/** The promotion workflow's persistence. One DynamoDB implementation; tests use it on dynalite. */
export interface PromotionStore {
  getExecution(executionId: string): Promise<PromotionRecord | undefined>;
  putExecution(record: PromotionRecord): Promise<void>;
  listExecutions(filter?: { environment?: string; repository?: string }): Promise<PromotionRecord[]>;
  addHistory(entry: PromotionHistoryEntry): Promise<void>;
  /** History of one environment and repository, newest first. */
  history(environment: string, repository: string): Promise<PromotionHistoryEntry[]>;
  /** Every history entry (retention locks). */
  allHistory(): Promise<PromotionHistoryEntry[]>;
  getQuarantine(digest: string): Promise<QuarantineRecord | undefined>;
  putQuarantine(record: QuarantineRecord): Promise<void>;
  deleteQuarantine(digest: string): Promise<void>;
  listQuarantine(): Promise<QuarantineRecord[]>;
  getHold(environment: string, repository: string): Promise<HoldRecord | undefined>;
  putHold(record: HoldRecord): Promise<void>;
  deleteHold(environment: string, repository: string): Promise<void>;
  listHolds(): Promise<HoldRecord[]>;
  getApproval(executionId: string): Promise<PendingApproval | undefined>;
  putApproval(approval: PendingApproval): Promise<void>;
  deleteApproval(executionId: string): Promise<void>;
}

export interface DynamoPromotionStoreOptions {
  readonly docClient: DynamoDBDocumentClient;
  readonly tables: { readonly promotions: string; readonly quarantine: string; readonly holds: string };
}

/** Environment variables naming the tables in Lambda. */
export const PROMOTION_TABLES_ENV = { promotions: 'PROMOTIONS_TABLE', quarantine: 'QUARANTINE_TABLE', holds: 'HOLDS_TABLE' } as const;

const strip = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
};

/**
 * @example
 * const store = new DynamoPromotionStore({ docClient, tables: { promotions: 'regman-promotions', quarantine: 'regman-quarantine', holds: 'regman-holds' } });
 * await store.history('prod', 'team/app');
 */
export class DynamoPromotionStore implements PromotionStore {
  constructor(private readonly o: DynamoPromotionStoreOptions) {}

  private async get<T>(table: string, key: Record<string, string>): Promise<T | undefined> {
    const out = await this.o.docClient.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return strip<T>(out.Item);
  }

  private async scan<T>(table: string, prefix?: string): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.o.docClient.send(
        new ScanCommand({
          TableName: table,
          ...(prefix ? { FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': prefix } } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) items.push(strip<T>(item) as T);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  getExecution(executionId: string): Promise<PromotionRecord | undefined> {
    return this.get(this.o.tables.promotions, { pk: `exec#${executionId}`, sk: 'state' });
  }

  async putExecution(record: PromotionRecord): Promise<void> {
    await this.o.docClient.send(new PutCommand({ TableName: this.o.tables.promotions, Item: { pk: `exec#${record.executionId}`, sk: 'state', ...record } }));
  }

  async listExecutions(filter: { environment?: string; repository?: string } = {}): Promise<PromotionRecord[]> {
    const all = await this.scan<PromotionRecord>(this.o.tables.promotions, 'exec#');
    return all
      .filter((r) => (filter.environment === undefined || r.to === filter.environment) && (filter.repository === undefined || r.repository === filter.repository))
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }

  async addHistory(entry: PromotionHistoryEntry): Promise<void> {
    await this.o.docClient.send(
      new PutCommand({ TableName: this.o.tables.promotions, Item: { pk: `hist#${entry.environment}#${entry.repository}`, sk: `${entry.time}#${entry.executionId}`, ...entry } }),
    );
  }

  async history(environment: string, repository: string): Promise<PromotionHistoryEntry[]> {
    const items: PromotionHistoryEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.o.docClient.send(
        new QueryCommand({
          TableName: this.o.tables.promotions,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `hist#${environment}#${repository}` },
          ScanIndexForward: false,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) items.push(strip<PromotionHistoryEntry>(item)!);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  allHistory(): Promise<PromotionHistoryEntry[]> {
    return this.scan(this.o.tables.promotions, 'hist#');
  }

  getQuarantine(digest: string): Promise<QuarantineRecord | undefined> {
    return this.get(this.o.tables.quarantine, { pk: digest });
  }

  async putQuarantine(record: QuarantineRecord): Promise<void> {
    await this.o.docClient.send(new PutCommand({ TableName: this.o.tables.quarantine, Item: { pk: record.digest, ...record } }));
  }

  async deleteQuarantine(digest: string): Promise<void> {
    await this.o.docClient.send(new DeleteCommand({ TableName: this.o.tables.quarantine, Key: { pk: digest } }));
  }

  listQuarantine(): Promise<QuarantineRecord[]> {
    return this.scan(this.o.tables.quarantine);
  }

  getHold(environment: string, repository: string): Promise<HoldRecord | undefined> {
    return this.get(this.o.tables.holds, { pk: `${environment}#${repository}` });
  }

  async putHold(record: HoldRecord): Promise<void> {
    await this.o.docClient.send(new PutCommand({ TableName: this.o.tables.holds, Item: { pk: `${record.environment}#${record.repository}`, ...record } }));
  }

  async deleteHold(environment: string, repository: string): Promise<void> {
    await this.o.docClient.send(new DeleteCommand({ TableName: this.o.tables.holds, Key: { pk: `${environment}#${repository}` } }));
  }

  listHolds(): Promise<HoldRecord[]> {
    return this.scan(this.o.tables.holds);
  }

  getApproval(executionId: string): Promise<PendingApproval | undefined> {
    return this.get(this.o.tables.promotions, { pk: `approval#${executionId}`, sk: 'request' });
  }

  async putApproval(approval: PendingApproval): Promise<void> {
    await this.o.docClient.send(new PutCommand({ TableName: this.o.tables.promotions, Item: { pk: `approval#${approval.executionId}`, sk: 'request', ...approval } }));
  }

  async deleteApproval(executionId: string): Promise<void> {
    await this.o.docClient.send(new DeleteCommand({ TableName: this.o.tables.promotions, Key: { pk: `approval#${executionId}`, sk: 'request' } }));
  }
}

/**
 * Only the promotion history (`hist#` items of the promotions table), for a reader that needs nothing
 * else: the retention sweep's locks (retention-locks.ts), whose role may Scan that one table.
 *
 * @example
 * const lockedDigests = await promotionLockedDigests(dynamoPromotionHistory({ docClient, tableName: process.env.PROMOTIONS_TABLE! }));
 */
export function dynamoPromotionHistory(o: { readonly docClient: DynamoDBDocumentClient; readonly tableName: string }): Pick<PromotionStore, 'allHistory'> {
  const store = new DynamoPromotionStore({ docClient: o.docClient, tables: { promotions: o.tableName, quarantine: o.tableName, holds: o.tableName } });
  return { allHistory: () => store.allHistory() };
}
